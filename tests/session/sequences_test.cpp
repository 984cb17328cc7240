// Commands that only make sense in sequence. REST n sets where the next transfer starts (RETR, STOR,
// APPE), for that one transfer; a REST beyond the end is refused with one reply. RNTO renames what the
// RNFR right before it named, and nothing else.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.hpp"

using namespace ftpsd::test;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kSize = 1'000'003;

// RETR over PASV, with its 150 and 226: the bytes.
std::string retr(SessionHarness& h, SessionClient& c, std::string_view path) {
  auto data = c.pasv();
  c.cmd("RETR " + std::string(path), 150);
  auto out = h.read_all(data);
  c.expect(226);
  return out;
}

// STOR/APPE/STOU over PASV: sends `bytes`, checks the 226.
void upload(SessionHarness& h, SessionClient& c, std::string_view command, std::string_view bytes) {
  auto data = c.pasv();
  c.cmd(command, 150);
  h.write_all(data, bytes);
  data.close();
  c.expect(226);
}

}  // namespace

TEST(Rest, RetrStartsAtTheRestartOffset) {
  SessionHarness h;
  const auto payload = pattern(kSize);
  h.write_file("f.bin", payload);
  auto c = h.connect();
  c->login();
  for (const std::size_t offset :
       {std::size_t{0}, std::size_t{1}, std::size_t{123'457}, std::size_t{262'144}, kSize - 1, kSize}) {
    EXPECT_EQ(c->cmd("REST " + std::to_string(offset), 350),
              "350 Restart position accepted (" + std::to_string(offset) + ").\r\n");
    EXPECT_EQ(retr(h, *c, "f.bin"), payload.substr(offset)) << offset;
  }
}

TEST(Rest, AppliesToTheNextTransferOnly) {
  SessionHarness h;
  const auto payload = pattern(kSize);
  h.write_file("f.bin", payload);
  auto c = h.connect();
  c->login();
  c->cmd("REST 500", 350);
  EXPECT_EQ(retr(h, *c, "f.bin"), payload.substr(500));
  EXPECT_EQ(retr(h, *c, "f.bin"), payload) << "the next transfer starts at 0 again";
  // A transfer that fails uses it up too.
  c->cmd("REST 5", 350);
  c->cmd("PASV", 227);
  EXPECT_EQ(c->cmd("RETR missing.bin", 550), "550 Failed to open file.\r\n");
  EXPECT_EQ(retr(h, *c, "f.bin"), payload);
  // PASV between REST and RETR (the order some clients use) keeps it.
  c->cmd("REST 7", 350);
  EXPECT_EQ(retr(h, *c, "f.bin"), payload.substr(7));
  // STOU never resumes, and uses it up.
  c->cmd("REST 3", 350);
  upload(h, *c, "STOU fresh.bin", "whole");
  EXPECT_EQ(h.read_file("fresh.bin"), "whole");
  EXPECT_EQ(retr(h, *c, "f.bin"), payload);
}

TEST(Rest, BeyondTheEndIs554AndNothingElse) {
  SessionHarness h;
  const auto payload = pattern(kSize);
  h.write_file("f.bin", payload);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("REST 1000004", 350);
  EXPECT_EQ(c->cmd("RETR f.bin", 554),
            "554 Restart offset 1000004 is beyond the end of the file (1000003 bytes).\r\n");
  EXPECT_TRUE(c->silent()) << "no 150 or 226 after a refused RETR";
  c->cmd("NOOP", 200);
  // The same for an upload: the file stays as it was, and a new file is not created.
  data = c->pasv();
  c->cmd("REST 2000000", 350);
  EXPECT_EQ(c->cmd("STOR f.bin", 554),
            "554 Restart offset 2000000 is beyond the end of the file (1000003 bytes).\r\n");
  EXPECT_TRUE(c->silent());
  EXPECT_EQ(h.read_file("f.bin"), payload);
  data = c->pasv();
  c->cmd("REST 5", 350);
  EXPECT_EQ(c->cmd("STOR new.bin", 554), "554 Restart offset 5 is beyond the end of the file (0 bytes).\r\n");
  EXPECT_FALSE(fs::exists(h.root() / "new.bin")) << "a refused upload creates nothing";
}

TEST(Rest, NeedsAByteOffset) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  for (const char* arg : {"abc", "-1", "12x", "99999999999999999999999", "1 2"})
    EXPECT_EQ(c->cmd(std::string("REST ") + arg, 501), "501 REST needs a byte offset.\r\n") << arg;
  EXPECT_EQ(c->cmd("REST", 501), "501 REST needs an argument.\r\n");
}

TEST(Rest, StorWritesFromTheRestartOffsetAndCutsWhatFollowed) {
  SessionHarness h;
  const auto payload = pattern(kSize);
  h.write_file("f.bin", payload);
  auto c = h.connect();
  c->login();
  const auto tail = pattern(300'000).substr(1);
  c->cmd("REST 600000", 350);
  upload(h, *c, "STOR f.bin", tail);
  EXPECT_EQ(h.read_file("f.bin"), payload.substr(0, 600'000) + tail);
  c->cmd("REST 10", 350);
  upload(h, *c, "STOR f.bin", "0123456789");
  EXPECT_EQ(h.read_file("f.bin"), payload.substr(0, 10) + "0123456789");
  upload(h, *c, "STOR f.bin", "short");
  EXPECT_EQ(h.read_file("f.bin"), "short") << "without REST, STOR replaces";
}

TEST(Rest, AppeAtTheRestartOffset) {
  SessionHarness h;
  const auto payload = pattern(kSize);
  h.write_file("f.bin", payload);
  auto c = h.connect();
  c->login();
  // The usual resume: SIZE, then REST <size> and APPE the rest.
  EXPECT_EQ(c->cmd("SIZE f.bin", 213), "213 1000003\r\n");
  c->cmd("REST 1000003", 350);
  upload(h, *c, "APPE f.bin", "tail");
  EXPECT_EQ(h.read_file("f.bin"), payload + "tail");
  // Below the end: the data goes at that byte, not at the end.
  c->cmd("REST 1000", 350);
  upload(h, *c, "APPE f.bin", "XXXXXXXXXX");
  EXPECT_EQ(h.read_file("f.bin"), payload.substr(0, 1000) + "XXXXXXXXXX");
  // Without REST, APPE appends (and creates).
  upload(h, *c, "APPE f.bin", "more");
  EXPECT_EQ(h.read_file("f.bin"), payload.substr(0, 1000) + "XXXXXXXXXXmore");
  upload(h, *c, "APPE fresh.bin", "first");
  upload(h, *c, "APPE fresh.bin", "+second");
  EXPECT_EQ(h.read_file("fresh.bin"), "first+second");
}

TEST(Rename, RntoRenamesWhatRnfrNamed) {
  SessionHarness h;
  h.write_file("a.txt", "A");
  h.write_file("b.txt", "B");
  fs::create_directory(h.root() / "dir");
  fs::create_directory(h.root() / "dir2");
  auto c = h.connect();
  c->login();
  EXPECT_EQ(c->cmd("RNFR a.txt", 350), "350 Ready for RNTO.\r\n");
  EXPECT_EQ(c->cmd("RNTO dir/moved.txt", 250), "250 Rename successful.\r\n");
  EXPECT_EQ(h.read_file("dir/moved.txt"), "A");
  EXPECT_FALSE(fs::exists(h.root() / "a.txt"));
  // A file may replace a file...
  c->cmd("RNFR b.txt", 350);
  c->cmd("RNTO dir/moved.txt", 250);
  EXPECT_EQ(h.read_file("dir/moved.txt"), "B");
  // ... but never a folder, nor a folder a folder.
  c->cmd("RNFR dir/moved.txt", 350);
  EXPECT_EQ(c->cmd("RNTO dir2", 550), "550 Rename failed. File exists.\r\n");
  c->cmd("RNFR dir2", 350);
  EXPECT_TRUE(c->cmd("RNTO dir", 550).starts_with("550 Rename failed."));
  EXPECT_TRUE(fs::is_directory(h.root() / "dir2"));
  EXPECT_TRUE(fs::exists(h.root() / "dir" / "moved.txt"));
  // Folders can be renamed; pipelined, the pair works the same.
  c->send_raw("RNFR dir2\r\nRNTO dir3\r\n");
  c->expect(350);
  c->expect(250);
  EXPECT_TRUE(fs::is_directory(h.root() / "dir3"));
}

TEST(Rename, RntoNeedsAnRnfrRightBeforeIt) {
  SessionHarness h;
  h.write_file("a.txt", "A");
  auto c = h.connect();
  c->login();
  EXPECT_EQ(c->cmd("RNTO x", 503), "503 RNFR required first.\r\n");
  // Any other command in between forgets the RNFR.
  for (const char* between : {"NOOP", "PWD", "TYPE I", "PASV", "SIZE a.txt"}) {
    c->cmd("RNFR a.txt", 350);
    c->send(between);
    c->reply();
    EXPECT_EQ(c->cmd("RNTO x", 503), "503 RNFR required first.\r\n") << between;
  }
  // An RNTO uses it up.
  c->cmd("RNFR a.txt", 350);
  c->cmd("RNTO b.txt", 250);
  c->cmd("RNTO c.txt", 503);
  // A second RNFR replaces the first.
  h.write_file("other.txt", "O");
  c->cmd("RNFR b.txt", 350);
  c->cmd("RNFR other.txt", 350);
  c->cmd("RNTO renamed.txt", 250);
  EXPECT_EQ(h.read_file("renamed.txt"), "O");
  EXPECT_EQ(h.read_file("b.txt"), "A");
  // A refused RNFR leaves nothing to rename.
  c->cmd("RNFR b.txt", 350);
  EXPECT_EQ(c->cmd("RNFR missing", 550), "550 Rename failed.\r\n");
  c->cmd("RNTO x", 503);
  EXPECT_EQ(c->cmd("RNFR /", 550), "550 Cannot rename the root folder.\r\n");
  c->cmd("RNTO x", 503);
  EXPECT_TRUE(fs::exists(h.root() / "b.txt"));
  EXPECT_FALSE(fs::exists(h.root() / "x"));
}
