// LocalFs against a real temporary tree: the kernel's RESOLVE_BENEATH keeps every path inside.
#include "vfs/local_fs.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace ftpsd::vfs;
namespace fs = std::filesystem;

class LocalFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ftpsd-localfs-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "sub");
    fs::create_directories(base_ / "outside");
    std::ofstream(base_ / "outside" / "secret") << "secret";
    std::ofstream(base_ / "root" / "sub" / "in.txt") << "inside";
    fs::create_symlink(base_ / "outside", base_ / "root" / "escape");            // absolute, points out
    fs::create_symlink("../../outside/secret", base_ / "root" / "sub" / "rel");  // relative, points out
    fs::create_symlink("in.txt", base_ / "root" / "sub" / "ok-link");            // stays inside
    fs_ = *LocalFs::open((base_ / "root").string());
  }
  void TearDown() override { fs::remove_all(base_); }
  VirtualPath p(std::string_view s) { return *VirtualPath::resolve(VirtualPath(), s); }

  fs::path base_;
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
