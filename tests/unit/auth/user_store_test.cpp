#include "auth/user_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "auth/password.hpp"
#include "test_dir.hpp"

using namespace ftpsd::auth;
namespace fs = std::filesystem;

namespace {
// A users file with one complete entry; the lines a test appends to it are lines 5 and on.
constexpr std::string_view kUserA = "[[users]]\nname = \"a\"\npassword_hash = \"$6$x$y\"\nroot = \"/r\"\n";

// Writes `text` as the users file and loads it: the error message (a test failure when it loads).
std::string load_error(const fs::path& file, std::string_view text) {
  std::ofstream(file) << text;
  auto store = UserStore::load(file);
  if (store) {
    ADD_FAILURE() << "loaded without an error:\n" << text;
    return {};
  }
  return store.error().message;
}
}  // namespace

TEST(Password, HashAndVerify) {
  auto h = hash_password("correct horse");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->starts_with("$y$"));  // yescrypt, libxcrypt's preferred method
  EXPECT_TRUE(verify_password("correct horse", *h));
  EXPECT_FALSE(verify_password("wrong", *h));
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "!locked"));
}

TEST(Password, Sha512CryptFromOpenssl) {
  // `openssl passwd -6 -salt saltsalt secret`
  EXPECT_TRUE(verify_password(
      "secret",
      "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"));
}

TEST(UserStore, AddListRemove) {
  const ftpsd::test::TempDir dir("users");
  const auto file = dir.path() / "users.toml";
  User u{.name = "alice", .password_hash = "$6$x$y", .root = "/srv/alice", .write = true};
  ASSERT_TRUE(add_user(file, u));
  EXPECT_FALSE(add_user(file, u));  // duplicate
  User b{.name = "bob", .password_hash = "$6$x$z", .root = "/srv/bob", .write = false};
  ASSERT_TRUE(add_user(file, b));
  auto store = UserStore::load(file);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->all().size(), 2u);
  EXPECT_TRUE(store->find("alice")->write);
  EXPECT_FALSE(store->find("bob")->write);
  ASSERT_TRUE(remove_user(file, "alice"));
  EXPECT_FALSE(UserStore::load(file)->find("alice"));
  EXPECT_TRUE(UserStore::load(file)->find("bob"));
  EXPECT_FALSE(remove_user(file, "nobody"));
}

TEST(UserStore, ErrorsNameFileAndLine) {
  const ftpsd::test::TempDir dir("users");
  const auto file = dir.path() / "users.toml";
  const auto unknown = load_error(file, std::string(kUserA) + "colour = \"red\"\n");
  EXPECT_NE(unknown.find(":5: key 'users.colour': unknown key"), std::string::npos) << unknown;
  const auto missing = load_error(file, "[[users]]\nname = \"a\"\nroot = \"/r\"\n");
  EXPECT_NE(missing.find("password_hash"), std::string::npos) << missing;
}

TEST(UserStore, LimitKeys) {
  const ftpsd::test::TempDir dir("users");
  const auto file = dir.path() / "users.toml";
  std::ofstream(file)
      << "[[users]]\nname = \"a\"\npassword_hash = \"$6$x$y\"\nroot = \"/r\"\nmax_sessions = 2\n"
         "download_rate = \"1M\"\nupload_rate = 4096\n[[users]]\nname = \"b\"\n"
         "password_hash = \"$6$x$y\"\nroot = \"/r\"\n";
  auto store = UserStore::load(file);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->find("a")->max_sessions, 2u);
  EXPECT_EQ(store->find("a")->download_rate, 1024u * 1024);
  EXPECT_EQ(store->find("a")->upload_rate, 4096u);
  EXPECT_FALSE(store->find("b")->max_sessions);
  EXPECT_EQ(store->find("b")->download_rate, 0u);
  const auto bad = load_error(file, std::string(kUserA) + "upload_rate = \"lots\"\n");
  EXPECT_NE(bad.find(":5: key 'users.upload_rate'"), std::string::npos) << bad;
}

TEST(UserStore, SharedUserOutlivesTheStorePointer) {
  const ftpsd::test::TempDir dir("users");
  const auto file = dir.path() / "users.toml";
  ASSERT_TRUE(add_user(file, User{.name = "alice", .password_hash = "$6$x$y", .root = "/srv/alice"}));
  auto loaded = UserStore::load(file);
  ASSERT_TRUE(loaded) << loaded.error().message;
  auto store = std::make_shared<const UserStore>(std::move(*loaded));
  EXPECT_EQ(share_user(store, "nobody"), nullptr);
  EXPECT_EQ(share_user(nullptr, "alice"), nullptr);
  auto alice = share_user(store, "alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice.get(), &store->all().at("alice"));  // the store's record, not a copy
  std::weak_ptr<const UserStore> watch = store;
  store.reset();  // a reload drops the snapshot: the session's user keeps it alive
  EXPECT_FALSE(watch.expired());
  EXPECT_EQ(alice->root, "/srv/alice");
  alice.reset();
  EXPECT_TRUE(watch.expired());
}

TEST(UserStore, EnabledIsTrueUnlessTheFileSaysFalse) {
  const std::string text =
      std::string(kUserA) +
      "enabled = false\n\n[[users]]\nname = \"b\"\npassword_hash = \"$6$x$y\"\nroot = \"/r\"\n";
  auto store = UserStore::parse(text, "/etc/ftpsd/users.toml");
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE(store->find("a")->enabled);
  EXPECT_TRUE(store->find("b")->enabled);
  const auto bad = UserStore::parse(std::string(kUserA) + "enabled = \"no\"\n", "/etc/ftpsd/users.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "/etc/ftpsd/users.toml:5: key 'users.enabled': wrong type");
}

TEST(UserStore, EntriesAddedAndRemovedKeepTheRestOfTheFile) {
  const std::string text = "# our users\n" + std::string(kUserA) + "write = true  # a writes\n";
  EXPECT_EQ(user_entry_index(text, "a"), 0U);
  EXPECT_FALSE(user_entry_index(text, "b"));
  const std::vector<ftpsd::config::KeyEdit> keys{
      {"name", R"("b")"}, {"password_hash", R"("$6$x$z")"}, {"root", R"("/b")"}};
  auto added = text_with_user(text, keys);
  ASSERT_TRUE(added) << added.error();
  EXPECT_EQ(*added, text + "\n[[users]]\nname = \"b\"\npassword_hash = \"$6$x$z\"\nroot = \"/b\"\n");
  EXPECT_EQ(user_entry_index(*added, "b"), 1U);
  auto removed = text_without_user(*added, "b");
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, text);
  EXPECT_FALSE(text_without_user(text, "nobody"));
}

TEST(UsersFileText, ReadsBackToTheSameUsers) {
  std::vector<ftpsd::auth::User> users{
      {.name = "alice", .password_hash = "$6$salt$hash\"q", .root = "/srv/ftp/alice", .write = true},
      {.name = "bob",
       .password_hash = "$y$j9T$x",
       .root = "/srv/ftp/bob",
       .write = false,
       .enabled = false,
       .tls_required = ftpsd::config::TlsRequired::kAll,
       .tls_session_reuse = ftpsd::config::SessionReuse::kReport,
       .max_sessions = 3,
       .download_rate = 1000,
       .upload_rate = 2000,
       .certificate_name = "Bob B"}};
  const auto text = ftpsd::auth::users_file_text(users, "first line\nsecond line");
  EXPECT_TRUE(text.starts_with("# first line\n# second line\n")) << text;
  auto store = ftpsd::auth::UserStore::parse(text, "/elsewhere/users.toml");
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_EQ(store->all().size(), 2U);
  for (const auto& u : users) {
    const auto back = store->find(u.name);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->password_hash, u.password_hash);
    EXPECT_EQ(back->root, u.root);
    EXPECT_EQ(back->write, u.write);
    EXPECT_EQ(back->enabled, u.enabled);
    EXPECT_EQ(back->tls_required, u.tls_required);
    EXPECT_EQ(back->tls_session_reuse, u.tls_session_reuse);
    EXPECT_EQ(back->max_sessions, u.max_sessions);
    EXPECT_EQ(back->download_rate, u.download_rate);
    EXPECT_EQ(back->upload_rate, u.upload_rate);
    EXPECT_EQ(back->certificate_name, u.certificate_name);
  }
}
