#include "vfs/virtual_path.hpp"

#include <gtest/gtest.h>

using ftpsd::vfs::PathError;
using ftpsd::vfs::VirtualPath;

namespace {
std::string r(std::string_view cwd, std::string_view arg) {
  auto base = VirtualPath::resolve(VirtualPath(), cwd);
  auto p = VirtualPath::resolve(*base, arg);
  return p ? std::string(p->str()) : "<error>";
}
}  // namespace

TEST(VirtualPath, Normalises) {
  EXPECT_EQ(r("/", "a/b"), "/a/b");
  EXPECT_EQ(r("/a", "b//c/./d/"), "/a/b/c/d");
  EXPECT_EQ(r("/a/b", ".."), "/a");
  EXPECT_EQ(r("/a/b", "/x"), "/x");
  EXPECT_EQ(r("/a", ""), "/a");
}

TEST(VirtualPath, DotDotNeverClimbsAboveRoot) {
  EXPECT_EQ(r("/", ".."), "/");
  EXPECT_EQ(r("/a", "../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(r("/", "/../.."), "/");
}

TEST(VirtualPath, KeepsBackslashesAndTrailingDotsAsNames) {
  EXPECT_EQ(r("/", "\\..\\x"), "/\\..\\x");
  EXPECT_EQ(r("/", "a..."), "/a...");
}

TEST(VirtualPath, Errors) {
  using namespace std::string_literals;
  EXPECT_EQ(VirtualPath::resolve(VirtualPath(), "a\0b"s).error(), PathError::kInvalid);
  EXPECT_EQ(VirtualPath::resolve(VirtualPath(), std::string(5000, 'a')).error(), PathError::kTooLong);
}

TEST(VirtualPath, UploadTemporariesAreReserved) {
  EXPECT_EQ(VirtualPath::resolve(VirtualPath(), ".ftpsd-upload.0123abcd").error(), PathError::kReserved);
  EXPECT_EQ(VirtualPath::resolve(VirtualPath(), "/d/.ftpsd-upload.x/y").error(), PathError::kReserved);
  EXPECT_EQ(VirtualPath::resolve(VirtualPath(), "/d/.ftpsd-upload.").error(), PathError::kReserved);
  EXPECT_EQ(r("/", ".ftpsd-upload.x/.."), "/");  // normalised away before the check
  EXPECT_EQ(r("/", ".ftpsd-upload"), "/.ftpsd-upload");
  EXPECT_EQ(r("/", "x.ftpsd-upload.y"), "/x.ftpsd-upload.y");
}

TEST(VirtualPath, Parts) {
  auto p = *VirtualPath::resolve(VirtualPath(), "/a/b");
  EXPECT_EQ(p.relative(), "a/b");
  EXPECT_EQ(p.name(), "b");
  EXPECT_EQ(p.parent().str(), "/a");
  EXPECT_EQ(VirtualPath().relative(), ".");
  EXPECT_EQ(p.child("c").str(), "/a/b/c");
}
