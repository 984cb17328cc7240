// The admins file of the Manager: loading, its errors, and `ftpsd admin add`'s edit.
#include "auth/admin_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_dir.hpp"

using namespace ftpsd::auth;
namespace fs = std::filesystem;

namespace {
std::string load_error(const fs::path& file, std::string_view text) {
  std::ofstream(file) << text;
  auto store = AdminStore::load(file);
  if (store) {
    ADD_FAILURE() << "loaded without an error:\n" << text;
    return {};
  }
  return store.error().message;
}
}  // namespace

TEST(AdminRole, Names) {
  for (const auto role : {AdminRole::kViewer, AdminRole::kOperator, AdminRole::kAdmin})
    EXPECT_EQ(parse_admin_role(name(role)), role);
  EXPECT_EQ(name(AdminRole::kOperator), "operator");
  EXPECT_FALSE(parse_admin_role("root"));
  EXPECT_LT(AdminRole::kViewer, AdminRole::kOperator);
  EXPECT_LT(AdminRole::kOperator, AdminRole::kAdmin);
}

TEST(AdminStore, AddThenLoad) {
  const ftpsd::test::TempDir dir("admins");
  const auto file = dir.path() / "admins.toml";
  ASSERT_TRUE(add_admin(file, {.name = "root", .password_hash = "$6$x$y", .role = AdminRole::kAdmin}));
  ASSERT_TRUE(add_admin(file, {.name = "eve", .password_hash = "$6$x$z", .role = AdminRole::kViewer}));
  const auto again = add_admin(file, {.name = "root", .password_hash = "$6$x$q", .role = AdminRole::kViewer});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), "admin 'root' already exists in " + file.string());
  EXPECT_FALSE(add_admin(file, {.name = "a b", .password_hash = "$6$x$q", .role = AdminRole::kViewer}));
  auto store = AdminStore::load(file);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_EQ(store->all().size(), 2u);
  ASSERT_NE(store->find("root"), nullptr);
  EXPECT_EQ(store->find("root")->role, AdminRole::kAdmin);
  EXPECT_EQ(store->find("root")->password_hash, "$6$x$y");
  EXPECT_EQ(store->find("eve")->role, AdminRole::kViewer);
  EXPECT_EQ(store->find("nobody"), nullptr);
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

TEST(AdminStore, ErrorsNameTheFileAndLine) {
  const ftpsd::test::TempDir dir("admins");
  const auto file = dir.path() / "admins.toml";
  const auto f = file.string();
  constexpr std::string_view kHead = "[[admins]]\nname = \"root\"\npassword_hash = \"$6$x$y\"\n";
  EXPECT_EQ(load_error(file, std::string(kHead) + "role = \"king\"\n"),
            f + ":4: key 'admins.role': expected one of \"admin\", \"operator\", \"viewer\"");
  EXPECT_EQ(load_error(file, std::string(kHead) + "role = \"admin\"\nshell = \"x\"\n"),
            f + ":5: key 'admins.shell': unknown key");
  EXPECT_EQ(load_error(file, std::string(kHead) + "role = 1\n"),
            f + ":4: key 'admins.role': expected a string");
  EXPECT_EQ(load_error(file, kHead), f + ":1: admin 'root': key 'role' is missing");
  EXPECT_EQ(load_error(file, "[[admins]]\nname = \"root\"\nrole = \"admin\"\n"),
            f + ":1: admin 'root': key 'password_hash' is missing");
  EXPECT_EQ(load_error(
                file, std::string(kHead) + "role = \"admin\"\n" + std::string(kHead) + "role = \"viewer\"\n"),
            f + ":5: admin 'root' is defined twice");
  EXPECT_EQ(load_error(file, "[[users]]\nname = \"x\"\n"), f + ":1: key 'users': unknown key");
  EXPECT_EQ(AdminStore::load(dir.path() / "missing.toml").error().message,
            (dir.path() / "missing.toml").string() + ": cannot read the admins file");
}
