// The control connection while a transfer runs: ABOR (426 then 226) with and without a transfer, and
// while the transfer still waits for its data connection; STAT reports progress; every other command
// sent during a transfer, NOOP too, is answered after its final reply, in the order they were sent;
// QUIT lets the transfer finish; the client's end of the control connection ends the transfer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "harness.hpp"

using namespace ftpsd::test;

namespace {

constexpr std::uint64_t kGiB = 1ULL << 30;

// STAT during a transfer: the bytes moved so far and the total, from "Transfer in progress: ...".
std::pair<std::uint64_t, std::uint64_t> progress(const std::string& stat, const std::string& what) {
  std::smatch m;
  const std::regex re("Transfer in progress: " + what + ", (\\d+) bytes transferred(?: of (\\d+))?");
  if (!std::regex_search(stat, m, re)) {
    ADD_FAILURE() << "no progress in " << stat;
    return {0, 0};
  }
  return {std::stoull(m[1]), m[2].matched ? std::stoull(m[2]) : 0};
}

}  // namespace

TEST(TransferControl, AborDuringRetrIs426Then226AndTheSessionGoesOn) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  h.write_file("small.txt", "still usable\n");
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  EXPECT_EQ(c->cmd("RETR big.bin", 150),
            "150 Opening BINARY mode data connection for big.bin (1073741824 bytes).\r\n");
  EXPECT_EQ(h.read_n(data, kMiB).size(), kMiB);
  c->send_raw(
      "\xff\xf4\xff\xf2"
      "ABOR\r\n");  // Telnet IP and Synch first, as RFC 959 4.1.3 has it
  EXPECT_EQ(c->reply(), "426 Connection closed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "226 ABOR successful.\r\n");
  EXPECT_TRUE(c->silent()) << "exactly two replies to ABOR";
  EXPECT_LT(h.read_all(data).size(), kGiB - kMiB) << "the server closed the data connection";
  c->cmd("NOOP", 200);
  auto again = c->pasv();
  c->cmd("RETR small.txt", 150);
  EXPECT_EQ(h.read_all(again), "still usable\n");
  c->expect(226);
  const auto log = h.log();
  EXPECT_TRUE(std::any_of(log.begin(), log.end(), [](const std::string& l) {
    return std::regex_search(l, std::regex("transfer RETR /big\\.bin bytes=\\d+ duration=\\d+ms result=426"));
  }));
}

TEST(TransferControl, AborWhileTheTransferWaitsForItsDataConnection) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  h.write_file("small.txt", "still usable\n");
  auto c = h.connect();
  c->login();
  c->cmd("PASV", 227);
  c->send("RETR big.bin");  // nobody connects to the passive port
  EXPECT_TRUE(c->silent()) << "no 150 before the data connection";
  c->send("ABOR");
  EXPECT_EQ(c->reply(), "426 Data connection closed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "226 ABOR successful.\r\n");
  EXPECT_TRUE(c->silent());
  auto data = c->pasv();
  c->cmd("RETR small.txt", 150);
  EXPECT_EQ(h.read_all(data), "still usable\n");
  c->expect(226);
}

TEST(TransferControl, AborWithoutATransferIs225AndDropsAPreparedDataConnection) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  EXPECT_EQ(c->cmd("ABOR", 225), "225 No transfer to abort.\r\n");
  auto data = c->pasv();
  c->cmd("ABOR", 225);
  EXPECT_EQ(c->cmd("RETR x", 425), "425 Use PORT, EPRT, PASV or EPSV first.\r\n");
  EXPECT_TRUE(c->silent());
}

TEST(TransferControl, AborDuringStorKeepsNoFile) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("STOR up.bin", 150);
  h.write_all(data, pattern(4 * kMiB));
  c->send_raw(
      "\xff\xf4\xff\xf2"
      "ABOR\r\n");
  EXPECT_EQ(c->reply(), "426 Connection closed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "226 ABOR successful.\r\n");
  c->cmd("NOOP", 200);
  // Neither the file nor its temporary (storage.atomic_uploads).
  EXPECT_TRUE(std::filesystem::is_empty(h.root()));
}

TEST(TransferControl, StatDuringRetrReportsProgress) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("RETR big.bin", 150);
  h.read_n(data, kMiB);
  const auto stat = c->cmd("STAT", 211);
  EXPECT_TRUE(stat.starts_with("211-") && stat.find("\r\n211 End of status.\r\n") != std::string::npos)
      << stat;
  const auto [done, total] = progress(stat, "RETR /big\\.bin");
  EXPECT_EQ(total, kGiB);
  EXPECT_GE(done, kMiB);
  EXPECT_LT(done, kGiB);
  h.read_n(data, 4 * kMiB);
  // The server counts what it has handed to the socket: at least what the client has read (5 MiB),
  // never less than before; how far it ran ahead depends on the socket buffers, not on the code.
  const auto later = progress(c->cmd("STAT", 211), "RETR /big\\.bin").first;
  EXPECT_GE(later, 5 * kMiB);
  EXPECT_GE(later, done);
  EXPECT_EQ(c->cmd("STAT big.bin", 503), "503 STAT <path> is not available during a transfer.\r\n");
  c->send("ABOR");
  c->expect(426);
  c->expect(226);
  const auto after = c->cmd("STAT", 211);
  EXPECT_NE(after.find("No data connection"), std::string::npos) << after;
  EXPECT_EQ(after.find("Transfer in progress"), std::string::npos) << after;
}

TEST(TransferControl, StatDuringStorCountsTheBytesReceived) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("STOR up.bin", 150);
  const auto payload = pattern(300'000);
  h.write_all(data, payload);
  h.run_until_idle();  // the server has read what was sent
  EXPECT_EQ(progress(c->cmd("STAT", 211), "STOR /up\\.bin").first, 300'000u);
  data.close();
  c->expect(226);
  EXPECT_EQ(h.read_file("up.bin"), payload);
}

TEST(TransferControl, PipelinedStatDuringATransferAnswersAfterThe150) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->send_raw("RETR big.bin\r\nSTAT\r\n");
  c->expect(150);
  const auto stat = c->expect(211);
  EXPECT_NE(stat.find("Transfer in progress: RETR /big.bin"), std::string::npos) << stat;
  c->send("ABOR");
  c->expect(426);
  c->expect(226);
}

TEST(TransferControl, OtherCommandsWaitForTheTransferAndKeepTheirOrder) {
  SessionHarness h;
  const auto payload = pattern(kHeldBack);
  h.write_file("mid.bin", payload);
  auto c = h.connect();
  c->login();
  auto data = c->pasv(kSmallWindow);
  c->cmd("RETR mid.bin", 150);
  c->send_raw("PWD\r\nMKD later\r\nSYST\r\n");
  EXPECT_TRUE(c->silent()) << "commands sent during the transfer are answered after it";
  EXPECT_FALSE(h.logged("transfer RETR /mid.bin")) << "the transfer still runs";
  EXPECT_FALSE(std::filesystem::exists(h.root() / "later")) << "nor run before it ends";
  EXPECT_EQ(h.read_all(data), payload);
  EXPECT_EQ(c->reply(), "226 Transfer complete.\r\n");
  EXPECT_EQ(c->reply(), "257 \"/\" is the current directory\r\n");
  EXPECT_EQ(c->reply(), "257 \"/later\" created\r\n");
  EXPECT_EQ(c->reply(), "215 UNIX Type: L8\r\n");
  EXPECT_TRUE(c->silent());
}

TEST(TransferControl, ABurstOfCommandsDuringATransferWaitsAndDoesNotCorruptIt) {
  // Commands that would delete the file being sent, open another data connection or rename it get no
  // answer until the transfer ends; the file arrives whole, then each is answered in order.
  SessionHarness h;
  const auto payload = pattern(kHeldBack);
  h.write_file("big.bin", payload);
  auto c = h.connect();
  c->login();
  auto data = c->pasv(kSmallWindow);
  c->cmd("RETR big.bin", 150);
  const auto first = h.read_n(data, 65536);
  c->send_raw("PASV\r\nRNFR big.bin\r\nRNTO moved.bin\r\nDELE moved.bin\r\nMKD x\r\n");
  EXPECT_TRUE(c->silent()) << "queued commands wait for the end of the transfer";
  EXPECT_TRUE(std::filesystem::exists(h.root() / "big.bin"));
  EXPECT_EQ(first + h.read_all(data), payload);
  for (const int code : {226, 227, 350, 250, 250, 257}) c->expect(code);
  EXPECT_TRUE(c->silent());
  EXPECT_FALSE(std::filesystem::exists(h.root() / "big.bin"));
  EXPECT_TRUE(std::filesystem::is_directory(h.root() / "x"));
  // A well-behaved client is served: it downloads, uploads, deletes and quits.
  h.write_file("wellbehaved.txt", "served\n");
  auto other = h.connect();
  other->login();
  auto down = other->pasv();
  other->cmd("RETR wellbehaved.txt", 150);
  EXPECT_EQ(h.read_all(down), "served\n");
  other->expect(226);
  auto up = other->pasv();
  other->cmd("STOR wellbehaved-up.txt", 150);
  h.write_all(up, "up");
  up.close();
  other->expect(226);
  EXPECT_EQ(h.read_file("wellbehaved-up.txt"), "up");
  other->cmd("DELE wellbehaved-up.txt", 250);
  other->cmd("QUIT", 221);
}

TEST(TransferControl, NoopDuringATransferIsAnsweredAfterItsFinalReply) {
  // A client such as ftplib takes any 2xx after the 150 for the end of the transfer: a NOOP answered
  // in between would shift every later reply by one. Only STAT and ABOR act during a transfer
  // (PipelinedStatDuringATransferAnswersAfterThe150, the ABOR tests).
  SessionHarness h;
  const auto payload = pattern(kHeldBack);
  h.write_file("f.bin", payload);
  h.write_file("f.txt", "pipelined\n");
  auto c = h.connect();
  c->login();
  auto data = c->pasv(kSmallWindow);
  c->send_raw("RETR f.bin\r\nNOOP\r\n");
  c->expect(150);
  EXPECT_TRUE(c->silent()) << "NOOP waits for the end of the transfer";
  EXPECT_EQ(h.read_all(data), payload);
  EXPECT_EQ(c->reply(), "226 Transfer complete.\r\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_TRUE(c->silent());
  // A short transfer, pipelined with its NOOP: the same order.
  data = c->pasv();
  c->send_raw("RETR f.txt\r\nNOOP\r\n");
  c->expect(150);
  EXPECT_EQ(h.read_all(data), "pipelined\n");
  EXPECT_EQ(c->reply(), "226 Transfer complete.\r\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  // A NOOP sent while data flows, and a transfer that fails after its 150: its 426, then the 200.
  h.write_sparse("big.bin", 1ULL << 30);
  data = c->pasv();
  c->cmd("RETR big.bin", 150);
  h.read_n(data, kMiB);
  c->send("NOOP");
  EXPECT_TRUE(c->silent());
  data.close();
  EXPECT_EQ(c->reply(), "426 Data connection failed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_TRUE(c->silent());
  // Without a transfer, both at once, in order.
  c->send_raw("STAT\r\nNOOP\r\n");
  EXPECT_TRUE(c->reply().starts_with("211-"));
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  data = c->pasv();
  c->cmd("RETR f.txt", 150);
  EXPECT_EQ(h.read_all(data), "pipelined\n");
  c->expect(226);
}

TEST(TransferControl, RefusedTransfersAnswerOnceBeforeWhatFollows) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  for (int i = 0; i < 3; ++i) {
    c->cmd("PASV", 227);
    c->send_raw("RETR missing.txt\r\nNOOP\r\n");
    EXPECT_EQ(c->reply(), "550 Failed to open file.\r\n");
    EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  }
  c->cmd("EPSV", 229);
  c->send_raw("RETR missing.txt\r\nSTAT\r\nNOOP\r\n");
  EXPECT_EQ(c->reply(), "550 Failed to open file.\r\n");
  EXPECT_TRUE(c->reply().starts_with("211-"));
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_TRUE(c->silent());
}

TEST(TransferControl, QuitDuringATransferLetsItFinish) {
  SessionHarness h;
  const auto payload = pattern(kHeldBack);
  h.write_file("mid.bin", payload);
  auto c = h.connect();
  c->login();
  auto data = c->pasv(kSmallWindow);
  c->cmd("RETR mid.bin", 150);
  c->send("QUIT");
  EXPECT_FALSE(c->closed());
  EXPECT_FALSE(h.logged("transfer RETR /mid.bin")) << "the transfer still runs";
  EXPECT_EQ(h.read_all(data), payload);
  EXPECT_EQ(c->reply(), "226 Transfer complete.\r\n");
  EXPECT_EQ(c->reply(), "221 Goodbye.\r\n");
  EXPECT_TRUE(c->closed());
}

TEST(TransferControl, ClosingTheControlConnectionEndsTheTransfer) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("RETR big.bin", 150);
  h.read_n(data, kMiB);
  c->close();
  h.run_until_idle();
  EXPECT_TRUE(c->end().server_gone());
  EXPECT_LT(h.read_all(data).size(), kGiB) << "the data connection is closed too";
  EXPECT_TRUE(h.logged("result=426"));
  EXPECT_TRUE(h.logged("disconnected"));
}
