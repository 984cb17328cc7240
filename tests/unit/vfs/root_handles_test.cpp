// RootHandles: one handle per folder, shared while in use; a path that names another folder gets that
// folder's handle.
#include "vfs/root_handles.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_dir.hpp"

using namespace ftpsd::vfs;
namespace fs = std::filesystem;

class RootHandlesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(base_ / "a");
    fs::create_directories(base_ / "b");
    std::ofstream(base_ / "a" / "file") << "a";
  }
  static VirtualPath p(std::string_view s) { return *VirtualPath::resolve(VirtualPath(), s); }

  ftpsd::test::TempDir temp_{"roots"};
  const fs::path base_ = temp_.path();
  RootHandles roots_;
};

TEST_F(RootHandlesTest, OneHandlePerFolderWhileInUse) {
  auto first = roots_.open((base_ / "a").string());
  auto second = roots_.open((base_ / "a").string());
  auto other = roots_.open((base_ / "b").string());
  ASSERT_TRUE(first && second && other);
  EXPECT_EQ((*first).get(), (*second).get());
  EXPECT_NE((*first).get(), (*other).get());
  // The same folder through another spelling of its path, or a symlink to it: still one handle.
  fs::create_directory_symlink(base_ / "a", base_ / "link");
  auto via_link = roots_.open((base_ / "link").string());
  auto dotted = roots_.open((base_ / "b" / ".." / "a").string());
  ASSERT_TRUE(via_link && dotted);
  EXPECT_EQ((*first).get(), (*via_link).get());
  EXPECT_EQ((*first).get(), (*dotted).get());
  EXPECT_EQ(roots_.live(), 2u);
  // Nobody holds it any more: the folder's handle is closed, the next open makes a new one.
  (*first).reset();
  (*second).reset();
  (*via_link).reset();
  (*dotted).reset();
  EXPECT_EQ(roots_.live(), 1u);
  auto again = roots_.open((base_ / "a").string());
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->stat(p("/file")));
}

TEST_F(RootHandlesTest, APathThatNamesAnotherFolderGetsItsOwnHandle) {
  auto old_root = roots_.open((base_ / "a").string());
  ASSERT_TRUE(old_root);
  // The administrator moves the folder away and creates a new one under the same name.
  fs::rename(base_ / "a", base_ / "a-old");
  fs::create_directories(base_ / "a");
  auto new_root = roots_.open((base_ / "a").string());
  ASSERT_TRUE(new_root);
  EXPECT_NE((*old_root).get(), (*new_root).get());
  EXPECT_TRUE((*old_root)->stat(p("/file")));   // the session that had it keeps its folder
  EXPECT_FALSE((*new_root)->stat(p("/file")));  // a new session sees the new one
}

TEST_F(RootHandlesTest, MissingRootIsAnError) {
  EXPECT_FALSE(roots_.open((base_ / "missing").string()));
  std::ofstream(base_ / "plain") << "x";
  EXPECT_FALSE(roots_.open((base_ / "plain").string()));
}

TEST_F(RootHandlesTest, ExpiredEntriesAreDropped) {
  for (int i = 0; i < 200; ++i) {
    fs::create_directories(base_ / "many" / std::to_string(i));
    auto h = roots_.open((base_ / "many" / std::to_string(i)).string());
    ASSERT_TRUE(h);
  }
  EXPECT_EQ(roots_.live(), 0u);
  EXPECT_LE(roots_.tracked(), 64u);
}
