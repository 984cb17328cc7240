// LocalFs against a real temporary tree: the kernel's RESOLVE_BENEATH keeps every path inside.
#include "vfs/local_fs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include "test_dir.hpp"

using namespace ftpsd::vfs;
namespace fs = std::filesystem;

class LocalFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(base_ / "root" / "sub");
    fs::create_directories(base_ / "outside");
    std::ofstream(base_ / "outside" / "secret") << "secret";
    std::ofstream(base_ / "root" / "sub" / "in.txt") << "inside";
    fs::create_symlink(base_ / "outside", base_ / "root" / "escape");            // absolute, points out
    fs::create_symlink("../../outside/secret", base_ / "root" / "sub" / "rel");  // relative, points out
    fs::create_symlink("in.txt", base_ / "root" / "sub" / "ok-link");            // stays inside
    fs_ = *LocalFs::open((base_ / "root").string());
  }
  VirtualPath p(std::string_view s) { return *VirtualPath::resolve(VirtualPath(), s); }

  ftpsd::test::TempDir temp_{"localfs"};
  const fs::path base_ = temp_.path();
  std::shared_ptr<const LocalFs> fs_;
};

TEST_F(LocalFsTest, SymlinksOutOfTheRootAreRefused) {
  EXPECT_FALSE(fs_->open_read(p("/escape/secret")));
  EXPECT_FALSE(fs_->open_read(p("/sub/rel")));
  EXPECT_FALSE(fs_->stat(p("/escape")));
  EXPECT_FALSE(fs_->list(p("/escape")));
  EXPECT_TRUE(fs_->make_directory(p("/escape/newdir")));  // an error_code: refused
  EXPECT_FALSE(fs::exists(base_ / "outside" / "newdir"));
  EXPECT_FALSE(fs_->open_write(p("/escape/created"), WriteMode::kTruncate));
  EXPECT_FALSE(fs::exists(base_ / "outside" / "created"));
  EXPECT_TRUE(fs_->rename(p("/sub/in.txt"), p("/escape/moved")));
  EXPECT_TRUE(fs::exists(base_ / "root" / "sub" / "in.txt"));
}

TEST_F(LocalFsTest, SymlinkInsideTheRootWorks) {
  auto fd = fs_->open_read(p("/sub/ok-link"));
  ASSERT_TRUE(fd);
  char buf[16] = {};
  ASSERT_EQ(::read(fd->get(), buf, sizeof buf), 6);
  EXPECT_STREQ(buf, "inside");
}

// The event loop's first try (RESOLVE_CACHED): a path just used is in the dentry cache and opens;
// the jail holds all the same; what is not cached fails with EAGAIN (then the caller uses the pool).
TEST_F(LocalFsTest, CachedOnlyOpenReadsCachedPathsAndKeepsTheJail) {
  ASSERT_TRUE(fs_->open_read(p("/sub/in.txt")));
  auto fd = fs_->open_read(p("/sub/in.txt"), true);
  ASSERT_TRUE(fd) << fd.error().message();
  char buf[16] = {};
  ASSERT_EQ(::read(fd->get(), buf, sizeof buf), 6);
  EXPECT_STREQ(buf, "inside");
  auto link = fs_->open_read(p("/sub/ok-link"), true);
  EXPECT_TRUE(link || link.error() == std::errc::resource_unavailable_try_again);
  for (const char* escape : {"/escape/secret", "/sub/rel"}) {
    EXPECT_FALSE(fs_->open_read(p(escape), true)) << escape;
  }
  auto dir = fs_->open_read(p("/sub"), true);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error(), std::errc::is_a_directory);
}

TEST_F(LocalFsTest, ListShowsEntriesAndFollowsOnlyInsideLinks) {
  auto entries = fs_->list(p("/sub"));
  ASSERT_TRUE(entries);
  std::map<std::string, ftpsd::protocol::FileType> types;
  for (const auto& e : *entries) types[e.name] = e.type;
  EXPECT_EQ(types.at("in.txt"), ftpsd::protocol::FileType::kFile);
  EXPECT_EQ(types.at("ok-link"), ftpsd::protocol::FileType::kFile);
  EXPECT_EQ(types.at("rel"), ftpsd::protocol::FileType::kSymlink);  // escaping: shown, never followed
}

TEST_F(LocalFsTest, DirectoryOperations) {
  EXPECT_FALSE(fs_->make_directory(p("/new")));
  EXPECT_TRUE(fs_->is_directory(p("/new")));
  EXPECT_EQ(fs_->make_directory(p("/new")), std::errc::file_exists);
  EXPECT_FALSE(fs_->rename(p("/new"), p("/renamed")));
  EXPECT_FALSE(fs_->remove_directory(p("/renamed")));
  EXPECT_EQ(fs_->remove_directory(p("/sub")), std::errc::directory_not_empty);
  EXPECT_EQ(fs_->remove_file(p("/sub")), std::errc::is_a_directory);
  EXPECT_TRUE(fs_->remove_directory(p("/")));  // the root itself is never removed
}

TEST_F(LocalFsTest, RenameRefusesToReplaceADirectory) {
  ASSERT_FALSE(fs_->make_directory(p("/d")));
  EXPECT_EQ(fs_->rename(p("/sub/in.txt"), p("/d")), std::errc::file_exists);
}

namespace {
std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::vector<std::string> temporaries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (is_upload_temp(e.path().filename().string())) out.push_back(e.path().filename().string());
  return out;
}
void write_fd(int fd, std::string_view data) {
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
}
}  // namespace

TEST_F(LocalFsTest, PendingUploadReplacesTheTargetOnlyOnCommit) {
  fs::permissions(base_ / "root" / "sub" / "in.txt", fs::perms(0640));
  auto up = fs_->create_upload(p("/sub/in.txt"), false);
  ASSERT_TRUE(up) << up.error().message();
  write_fd(up->fd(), "new content");
  EXPECT_EQ(read_all(base_ / "root" / "sub" / "in.txt"), "inside");  // untouched until commit
  ASSERT_EQ(temporaries(base_ / "root" / "sub").size(), 1u);
  EXPECT_EQ(temporaries(base_ / "root" / "sub")[0], up->temp_name());
  // Hidden from listings.
  const auto listed = fs_->list(p("/sub"));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 3u);  // in.txt, rel, ok-link
  for (const auto& e : *listed) EXPECT_FALSE(is_upload_temp(e.name)) << e.name;
  EXPECT_FALSE(up->commit(true));
  EXPECT_EQ(read_all(base_ / "root" / "sub" / "in.txt"), "new content");
  EXPECT_EQ(fs::status(base_ / "root" / "sub" / "in.txt").permissions(), fs::perms(0640));  // mode kept
  EXPECT_TRUE(temporaries(base_ / "root" / "sub").empty());
}

TEST_F(LocalFsTest, DiscardedUploadLeavesTheOldFileAndNoTemporary) {
  {
    auto up = fs_->create_upload(p("/sub/in.txt"), false);
    ASSERT_TRUE(up);
    write_fd(up->fd(), "half");
    up->discard();
  }
  {
    auto up = fs_->create_upload(p("/sub/new.txt"), false);
    ASSERT_TRUE(up);
    write_fd(up->fd(), "half");
  }  // the destructor discards too
  EXPECT_EQ(read_all(base_ / "root" / "sub" / "in.txt"), "inside");
  EXPECT_FALSE(fs::exists(base_ / "root" / "sub" / "new.txt"));
  EXPECT_TRUE(temporaries(base_ / "root" / "sub").empty());
}

TEST_F(LocalFsTest, PendingUploadRefusals) {
  EXPECT_EQ(fs_->create_upload(p("/sub"), false).error(), std::errc::is_a_directory);
  EXPECT_EQ(fs_->create_upload(p("/"), false).error(), std::errc::is_a_directory);
  EXPECT_EQ(fs_->create_upload(p("/sub/in.txt"), true).error(), std::errc::file_exists);
  EXPECT_FALSE(fs_->create_upload(p("/escape/x"), false));  // the folder is a symlink out of the root
  EXPECT_FALSE(fs_->create_upload(p("/missing/x"), false));
  EXPECT_TRUE(temporaries(base_ / "outside").empty());
  // STOU: a name that appears meanwhile is not replaced.
  auto up = fs_->create_upload(p("/sub/unique"), true);
  ASSERT_TRUE(up);
  std::ofstream(base_ / "root" / "sub" / "unique") << "first";
  EXPECT_EQ(up->commit(false), std::errc::file_exists);
  EXPECT_EQ(read_all(base_ / "root" / "sub" / "unique"), "first");
}

TEST_F(LocalFsTest, PendingUploadLeavesSymlinksToTheCaller) {
  EXPECT_EQ(fs_->create_upload(p("/escape"), false).error(), std::errc::too_many_symbolic_link_levels);
  EXPECT_EQ(fs_->create_upload(p("/sub/ok-link"), false).error(), std::errc::too_many_symbolic_link_levels);
  EXPECT_TRUE(fs::is_symlink(base_ / "root" / "escape"));
  EXPECT_TRUE(temporaries(base_ / "root").empty());
  EXPECT_TRUE(temporaries(base_ / "root" / "sub").empty());
}

TEST_F(LocalFsTest, OpenWriteTellsWhetherItCreatedTheFile) {
  bool created = true;
  ASSERT_TRUE(fs_->open_write(p("/sub/in.txt"), WriteMode::kTruncate, &created));
  EXPECT_FALSE(created);
  ASSERT_TRUE(fs_->open_write(p("/sub/fresh"), WriteMode::kAppend, &created));
  EXPECT_TRUE(created);
  EXPECT_EQ(fs_->open_write(p("/sub/fresh"), WriteMode::kCreateNew, &created).error(),
            std::errc::file_exists);
  EXPECT_FALSE(created);
}

TEST_F(LocalFsTest, StaleUploadsAreRemovedOnlyWhenOlderAndNeverThroughSymlinks) {
  fs::create_directories(base_ / "root" / "a" / "b");
  std::ofstream(base_ / "root" / ".ftpsd-upload.old1") << "x";
  std::ofstream(base_ / "root" / "a" / "b" / ".ftpsd-upload.old2") << "x";
  std::ofstream(base_ / "root" / "a" / ".ftpsd-upload.new") << "x";
  std::ofstream(base_ / "root" / "a" / "keep.txt") << "x";
  std::ofstream(base_ / "outside" / ".ftpsd-upload.outside") << "x";     // reachable only via /escape
  const std::string own = ".ftpsd-upload." + upload_run_id() + ".mine";  // this run's: never removed
  std::ofstream(base_ / "root" / own) << "x";
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const auto* f : {".ftpsd-upload.old1", "a/b/.ftpsd-upload.old2"})
    fs::last_write_time(base_ / "root" / f, old);
  fs::last_write_time(base_ / "outside" / ".ftpsd-upload.outside", old);
  fs::last_write_time(base_ / "root" / own, old);
  const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch() - std::chrono::minutes(1))
                          .count();
  const auto r = fs_->remove_stale_uploads(before, 100000);
  EXPECT_EQ(r.removed, 2u);
  EXPECT_FALSE(r.truncated);
  EXPECT_FALSE(fs::exists(base_ / "root" / ".ftpsd-upload.old1"));
  EXPECT_FALSE(fs::exists(base_ / "root" / "a" / "b" / ".ftpsd-upload.old2"));
  EXPECT_TRUE(fs::exists(base_ / "root" / "a" / ".ftpsd-upload.new"));
  EXPECT_TRUE(fs::exists(base_ / "root" / "a" / "keep.txt"));
  EXPECT_TRUE(fs::exists(base_ / "root" / own));
  EXPECT_TRUE(fs::exists(base_ / "outside" / ".ftpsd-upload.outside"));
  EXPECT_TRUE(fs_->remove_stale_uploads(before, 3).truncated);
}

TEST_F(LocalFsTest, ListingDirectoryReadsEveryNameInBatchesAndStatsEachEntry) {
  // Long names, so that the names fill several getdents buffers.
  fs::create_directories(base_ / "root" / "many");
  std::set<std::string> expected;
  for (int i = 0; i < 2500; ++i) {
    const std::string name = "file " + std::to_string(i) + std::string(40, 'x');
    std::ofstream(base_ / "root" / "many" / name) << i;
    expected.insert(name);
  }
  std::ofstream(base_ / "root" / "many" / (std::string(kUploadTempPrefix) + "1.2")) << "hidden";
  auto dir = fs_->open_listing(p("/many"));
  ASSERT_TRUE(dir);
  std::set<std::string> seen;
  int batches = 0;
  while (!dir->at_end()) {
    auto batch = dir->next_batch();
    ASSERT_TRUE(batch);
    ++batches;
    for (const auto name : batch->names) {
      EXPECT_EQ(name.data()[name.size()], '\0');
      EXPECT_TRUE(seen.insert(std::string(name)).second) << name;
      const auto info = dir->stat_entry(name.data());
      ASSERT_TRUE(info) << name;
      EXPECT_EQ(info->type, ftpsd::protocol::FileType::kFile);
      EXPECT_EQ(info->size, std::to_string(std::stoi(std::string(name.substr(5)))).size());
    }
  }
  EXPECT_EQ(seen, expected);
  EXPECT_GT(batches, 2);
  EXPECT_FALSE(dir->stat_entry("no such entry"));

  auto sub = fs_->open_listing(p("/sub"));
  ASSERT_TRUE(sub);
  EXPECT_EQ(sub->stat_entry("ok-link")->type, ftpsd::protocol::FileType::kFile);  // inside: its target
  EXPECT_EQ(sub->stat_entry("ok-link")->size, 6u);
  EXPECT_EQ(sub->stat_entry("rel")->type, ftpsd::protocol::FileType::kSymlink);  // escaping: the link
  EXPECT_FALSE(fs_->open_listing(p("/escape")));
  EXPECT_FALSE(fs_->open_listing(p("/sub/in.txt")));
}
