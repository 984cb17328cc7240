#include "config/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/load_text.hpp"

using namespace ftpsd::config;
using namespace ftpsd::config::test_support;

namespace {
constexpr std::string_view kListener = "[[listeners]]\naddress = \"127.0.0.1:2121\"\n";
}  // namespace

TEST(ConfigLoader, EmbeddedDefaultLoads) {
  auto c = load_embedded_default();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->listeners.at(0).port, 2121);
  EXPECT_EQ(c->passive.ports->first, 50000);
  EXPECT_EQ(c->source, "<embedded default>");
  // The files `make run` prepares in ./run.
  EXPECT_EQ(c->users.file, "run/users.toml");
  EXPECT_EQ(c->tls.certificate, "run/cert.pem");
  EXPECT_EQ(c->admin.users_file, "run/admins.toml");
}

// `ftpsd config init run/ftpsd.toml` writes the embedded default as it is: loaded from there, it names
// the same files as the embedded default does from the folder above run/.
TEST(ConfigLoader, TheEmbeddedDefaultWrittenToRunNamesTheSameFiles) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "embedded-default";
  std::filesystem::create_directories(dir / "run");
  const auto file = dir / "run" / "ftpsd.toml";
  std::ofstream(file) << embedded_default();
  auto from_file = load_file(file);
  ASSERT_TRUE(from_file) << from_file.error().message;
  auto embedded = load_embedded_default();
  ASSERT_TRUE(embedded) << embedded.error().message;
  EXPECT_EQ(from_file->users.file, dir / embedded->users.file);
  EXPECT_EQ(from_file->tls.certificate, dir / embedded->tls.certificate);
  EXPECT_EQ(from_file->tls.private_key, dir / embedded->tls.private_key);
  EXPECT_EQ(from_file->admin.users_file, dir / embedded->admin.users_file);
  std::filesystem::remove_all(dir);
}

TEST(ConfigLoader, DefaultsAndValues) {
  auto c = load(std::string(kListener) +
                "[server]\nmax_sessions = 5\nidle_timeout = \"90s\"\n[passive]\nports = \"50000-50009\"\n"
                "[users]\nfile = \"users.toml\"\n[tls]\nrequired = \"login\"\ncertificate = \"c.pem\"\n"
                "private_key = \"k.pem\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server.max_sessions, 5u);
  EXPECT_EQ(c->server.idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c->passive.ports->size(), 10u);
  EXPECT_EQ(c->users.file, "/base/users.toml");
  EXPECT_EQ(c->tls.required, TlsRequired::kLogin);
  EXPECT_EQ(c->tls.session_reuse, SessionReuse::kRequire);
}

TEST(ConfigLoader, StorageKeys) {
  auto d = load(kListener);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->storage.fsync);
  EXPECT_TRUE(d->storage.atomic_uploads);
  auto c = load(std::string(kListener) + "[storage]\nfsync = false\natomic_uploads = false\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->storage.fsync);
  EXPECT_FALSE(c->storage.atomic_uploads);
  EXPECT_EQ(load(std::string(kListener) + "[storage]\nfsync = 1\n").error().message,
            "test.toml:4: key 'storage.fsync': expected true or false");
  EXPECT_NE(load(std::string(kListener) + "[storage]\natomic = true\n").error().message.find("unknown key"),
            std::string::npos);
}

TEST(ConfigLoader, ServerUserAndGroup) {
  auto c = load(std::string(kListener) + "[server]\nuser = \"ftp\"\ngroup = \"nogroup\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server.user, "ftp");
  EXPECT_EQ(c->server.group, "nogroup");
  EXPECT_EQ(load(std::string(kListener) + "[server]\ngroup = \"ftp\"\n").error().message,
            "test.toml:4: key 'server.group': server.group needs server.user (the account to drop to)");
}

TEST(ConfigLoader, ErrorsNameFileLineAndKey) {
  auto c = load(std::string(kListener) + "[server]\nidle_timeout = \"soon\"\n");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "test.toml:4: key 'server.idle_timeout': expected a duration such as \"30s\", \"5m\" or \"1h\"");
}

TEST(ConfigLoader, UnknownKeysAreErrors) {
  auto c = load(std::string(kListener) + "[server]\nmax_session = 5\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("test.toml:4: key 'server.max_session': unknown key"), std::string::npos)
      << c.error().message;
  EXPECT_FALSE(load(std::string(kListener) + "[sever]\n"));
}

TEST(ConfigLoader, EveryTableRejectsUnknownKeysUnderItsFullName) {
  const auto error_of = [](const std::string& text) {
    auto c = load(text);
    return c ? std::string("loaded") : c.error().message;
  };
  const std::string l(kListener);  // lines 1 and 2
  for (const char* table : {"server", "passive", "active", "proxy_protocol", "users", "tls", "storage",
                            "metrics", "admin", "bans", "limits", "log"}) {
    EXPECT_EQ(error_of(l + "[" + table + "]\nbogus = 1\n"),
              "test.toml:4: key '" + std::string(table) + ".bogus': unknown key");
  }
  EXPECT_EQ(error_of("bogus = 1\n" + l), "test.toml:1: key 'bogus': unknown key");
  EXPECT_EQ(error_of(l + "[[listeners]]\naddress = \"127.0.0.1:2122\"\nbogus = 1\n"),
            "test.toml:5: key 'listeners[1].bogus': unknown key");
  EXPECT_EQ(error_of(l + "[[passive.address_overrides]]\nnetworks = [\"10.0.0.0/8\"]\naddress = \"local\"\n"
                         "bogus = 1\n"),
            "test.toml:6: key 'passive.address_overrides[0].bogus': unknown key");
  EXPECT_EQ(
      error_of(l + "[[tls.session_reuse_overrides]]\nnetworks = [\"10.0.0.0/8\"]\nsession_reuse = \"off\"\n"
                   "bogus = 1\n"),
      "test.toml:6: key 'tls.session_reuse_overrides[0].bogus': unknown key");
  EXPECT_EQ(
      error_of(l + "[[tls.certificates]]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\nbogus = 1\n"),
      "test.toml:6: key 'tls.certificates[0].bogus': unknown key");
  // An array that must hold tables, holding something else.
  EXPECT_EQ(error_of("listeners = [1]\n"), "test.toml:1: key 'listeners': expected [[listeners]] tables");
  EXPECT_EQ(error_of(l + "[passive]\naddress_overrides = [1]\n"),
            "test.toml:4: key 'passive.address_overrides': expected [[passive.address_overrides]] tables");
  EXPECT_EQ(
      error_of(l + "[tls]\nsession_reuse_overrides = [1]\n"),
      "test.toml:4: key 'tls.session_reuse_overrides': expected [[tls.session_reuse_overrides]] tables");
  EXPECT_EQ(error_of(l + "[tls]\ncertificates = [1]\n"),
            "test.toml:4: key 'tls.certificates': expected [[tls.certificates]] tables");
  EXPECT_EQ(error_of("server = 1\n" + l), "test.toml:1: key 'server': expected a table");
}

TEST(ConfigLoader, BadValues) {
  EXPECT_NE(load("[[listeners]]\naddress = \"localhost:21\"\n").error().message.find("not an IP address"),
            std::string::npos);
  EXPECT_NE(
      load(std::string(kListener) + "[passive]\nports = \"50010-50000\"\n").error().message.find("inverted"),
      std::string::npos);
  EXPECT_NE(
      load(std::string(kListener) + "[tls]\nrequired = \"maybe\"\n").error().message.find("expected one of"),
      std::string::npos);
  EXPECT_NE(load("").error().message.find("at least one [[listeners]]"), std::string::npos);
  EXPECT_NE(load("[[listeners]]\naddress = \"[::1]:21\"\ntls = 3\n").error().message.find("test.toml:3"),
            std::string::npos);
}

TEST(PortRange, Parse) {
  EXPECT_FALSE(parse_port_range("")->has_value());
  EXPECT_EQ((*parse_port_range("21"))->size(), 1u);
  EXPECT_FALSE(parse_port_range("0-10"));
  EXPECT_FALSE(parse_port_range("1-70000"));
  EXPECT_FALSE(parse_port_range("a-b"));
}

TEST(ConfigLoader, TlsKeys) {
  auto c = load(std::string(kListener) +
                "[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\nmin_version = \"1.3\"\n"
                "session_reuse = \"report\"\nallow_ccc = true\nhandshake_timeout = \"5s\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->tls.certificate, "/base/c.pem");
  EXPECT_EQ(c->tls.min_version, TlsVersion::k1_3);
  EXPECT_EQ(c->tls.session_reuse, SessionReuse::kReport);
  EXPECT_TRUE(c->tls.allow_ccc);
  EXPECT_EQ(c->tls.handshake_timeout, std::chrono::seconds(5));
}

TEST(ConfigLoader, TlsListenerNeedsACertificate) {
  auto c = load("[[listeners]]\naddress = \"127.0.0.1:990\"\ntls = \"implicit\"\n");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("key 'listeners[0].tls': a TLS listener needs tls.certificate"),
            std::string::npos)
      << c.error().message;
  EXPECT_NE(
      load(std::string(kListener) + "[tls]\ncertificate = \"c.pem\"\n").error().message.find("go together"),
      std::string::npos);
  EXPECT_NE(
      load(std::string(kListener) + "[tls]\nmin_version = \"1.1\"\n").error().message.find("expected one of"),
      std::string::npos);
}

// Checks across tables run after reading; they still name the line of the key they are about.
TEST(ConfigLoader, CrossTableErrorsNameTheLineOfTheirKey) {
  EXPECT_EQ(load(std::string(kListener) +
                 "\n[[listeners]]\naddress = \"127.0.0.1:2122\"\n\nproxy_protocol = true\n")
                .error()
                .message,
            "test.toml:7: key 'listeners[1].proxy_protocol': proxy_protocol = true needs the proxies' "
            "networks in [proxy_protocol] trusted");
  const auto tls =
      load(std::string(kListener) + "\n[[listeners]]\naddress = \"127.0.0.1:990\"\ntls = \"implicit\"\n")
          .error()
          .message;
  EXPECT_TRUE(tls.starts_with("test.toml:6: key 'listeners[1].tls': ")) << tls;
  const auto required =
      load(std::string(kListener) + "[tls]\nciphers = \"HIGH\"\nrequired = \"all\"\n").error().message;
  EXPECT_TRUE(required.starts_with("test.toml:5: key 'tls.required': ")) << required;
}

TEST(ConfigLoader, SourceLinesOfKeysAndTables) {
  auto c = load(std::string(kListener) +
                "[passive]\nports = \"50000-50009\"\n\n[[passive.address_overrides]]\n"
                "networks = [\"10.0.0.0/8\"]\naddress = \"local\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->lines.of("listeners[0]"), 1u);
  EXPECT_EQ(c->lines.of("listeners[0].address"), 2u);
  EXPECT_EQ(c->lines.of("listeners[0].proxy_protocol"), 1u) << "not written: its [[listeners]] line";
  EXPECT_EQ(c->lines.of("passive"), 3u);
  EXPECT_EQ(c->lines.of("passive.ports"), 4u);
  EXPECT_EQ(c->lines.of("passive.address"), 3u);
  EXPECT_EQ(c->lines.of("passive.address_overrides[0].networks"), 7u);
  EXPECT_EQ(c->lines.of("passive.address_overrides[0].bogus"), 6u);
  EXPECT_EQ(c->lines.of("tls.certificate"), 0u) << "no [tls] table";
}

TEST(ConfigLoader, LimitsAndBans) {
  auto d = load(kListener);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->server.max_sessions_per_ip, 0u);
  EXPECT_EQ(d->bans.max_failures, 5u);
  EXPECT_EQ(d->limits.download_rate, 0u);
  auto c = load(std::string(kListener) +
                "[server]\nmax_sessions_per_ip = 8\nmax_sessions_per_user = 4\n"
                "[bans]\nmax_failures = 3\nwindow = \"1m\"\nduration = \"1h\"\nlogin_delay = \"500ms\"\n"
                "max_login_delay = \"4s\"\nexempt = [\"10.0.0.0/8\"]\nmax_entries = 1000\n"
                "[limits]\ndownload_rate = \"10M\"\nupload_rate = 512\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server.max_sessions_per_ip, 8u);
  EXPECT_EQ(c->server.max_sessions_per_user, 4u);
  EXPECT_EQ(c->bans.max_failures, 3u);
  EXPECT_EQ(c->bans.window, std::chrono::minutes(1));
  EXPECT_EQ(c->bans.duration, std::chrono::hours(1));
  EXPECT_EQ(c->bans.login_delay, std::chrono::milliseconds(500));
  EXPECT_EQ(c->bans.max_login_delay, std::chrono::seconds(4));
  EXPECT_EQ(c->bans.exempt.size(), 1u);
  EXPECT_EQ(c->bans.max_entries, 1000u);
  EXPECT_EQ(c->limits.download_rate, 10u * 1024 * 1024);
  EXPECT_EQ(c->limits.upload_rate, 512u);
  auto bad = load(std::string(kListener) + "[limits]\ndownload_rate = \"fast\"\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(
      bad.error().message,
      "test.toml:4: key 'limits.download_rate': expected bytes per second such as \"500k\", \"10M\" or 0 "
      "(unlimited)");
  auto delays = load(std::string(kListener) + "[bans]\nlogin_delay = \"10s\"\nmax_login_delay = \"1s\"\n");
  ASSERT_FALSE(delays);
  EXPECT_NE(delays.error().message.find("bans.max_login_delay"), std::string::npos);
  EXPECT_FALSE(load(std::string(kListener) + "[bans]\nexempt = [\"nope\"]\n"));
  EXPECT_FALSE(load(std::string(kListener) + "[bans]\nbogus = 1\n"));
}

TEST(ParseRate, Units) {
  EXPECT_EQ(parse_rate("0"), 0u);
  EXPECT_EQ(parse_rate("1000"), 1000u);
  EXPECT_EQ(parse_rate("500k"), 500u * 1024);
  EXPECT_EQ(parse_rate("10M"), 10u * 1024 * 1024);
  EXPECT_EQ(parse_rate("1G"), 1024u * 1024 * 1024);
  EXPECT_FALSE(parse_rate(""));
  EXPECT_FALSE(parse_rate("M"));
  EXPECT_FALSE(parse_rate("10 M"));
  EXPECT_FALSE(parse_rate("10MB"));
  EXPECT_FALSE(parse_rate("-1"));
  EXPECT_FALSE(parse_rate("99999999999G"));
}
