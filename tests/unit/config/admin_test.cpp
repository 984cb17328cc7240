// The [admin] table: defaults, values, and errors that name the file, the line and the key.
#include <gtest/gtest.h>

#include "config/load_text.hpp"
#include "config/loader.hpp"

using namespace ftpsd::config;
using namespace ftpsd::config::test_support;

namespace {
// Lines 1-2: a listener; 3-5: a certificate.
constexpr std::string_view kBase =
    "[[listeners]]\naddress = \"127.0.0.1:2121\"\n[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\n";
std::vector<std::string> texts(const std::vector<ftpsd::inet::IpNetwork>& networks) {
  std::vector<std::string> out;
  for (const auto& n : networks) out.push_back(n.to_string());
  return out;
}
}  // namespace

TEST(AdminConfig, OffByDefaultWithLoopbackAllowed) {
  auto c = load(kBase);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->admin.enabled());
  EXPECT_TRUE(c->admin.tls);
  EXPECT_TRUE(c->admin.users_file.empty());
  EXPECT_EQ(texts(c->admin.allow), (std::vector<std::string>{"127.0.0.0/8", "::1/128"}));
}

TEST(AdminConfig, Values) {
  auto c = load(std::string(kBase) +
                "[admin]\naddress = \"[::1]:8021\"\ntls = false\nusers_file = \"admins.toml\"\n"
                "allow = [\"10.0.0.0/8\", \"127.0.0.1\"]\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->admin.enabled());
  EXPECT_EQ(c->admin.address, "[::1]:8021");
  EXPECT_FALSE(c->admin.tls);
  EXPECT_EQ(c->admin.users_file, "/base/admins.toml");
  EXPECT_EQ(texts(c->admin.allow), (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1/32"}));
}

TEST(AdminConfig, ErrorsNameFileLineAndKey) {
  const std::string b(kBase);
  EXPECT_EQ(error_of(b + "[admin]\nbogus = 1\n"), "test.toml:7: key 'admin.bogus': unknown key");
  EXPECT_EQ(error_of(b + "[admin]\ntls = \"yes\"\n"), "test.toml:7: key 'admin.tls': expected true or false");
  EXPECT_TRUE(error_of(b + "[admin]\naddress = \"localhost:8021\"\nusers_file = \"a.toml\"\n")
                  .starts_with("test.toml:7: key 'admin.address': "));
  EXPECT_EQ(
      error_of(b + "[admin]\nusers_file = \"a.toml\"\nallow = [\"10.0.0.1/8\"]\n"),
      "test.toml:8: key 'admin.allow': expected networks such as \"10.0.0.0/8\" or \"2001:db8::/32\" (no "
      "host bits set)");
  EXPECT_EQ(
      error_of(b + "[admin]\nallow = []\n"),
      "test.toml:7: key 'admin.allow': an empty list lets nobody in: name the networks that may use the "
      "Manager");
  EXPECT_EQ(error_of(b + "[admin]\n\naddress = \"127.0.0.1:8021\"\n"),
            "test.toml:8: key 'admin.users_file': the Manager needs an admins file (`ftpsd admin add` writes "
            "one)");
}

TEST(AdminConfig, HttpsNeedsTheTlsCertificate) {
  const std::string listener = "[[listeners]]\naddress = \"127.0.0.1:2121\"\n";
  EXPECT_EQ(
      error_of(listener + "[admin]\naddress = \"127.0.0.1:8021\"\nusers_file = \"a.toml\"\n"),
      "test.toml:3: key 'admin.tls': the Manager serves HTTPS with tls.certificate and tls.private_key: "
      "configure them, or set admin.tls = false (plain HTTP, for loopback only)");
  auto plain =
      load(listener + "[admin]\naddress = \"127.0.0.1:8021\"\nusers_file = \"a.toml\"\ntls = false\n");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->admin.tls);
}

TEST(AdminConfig, RequestRateLimitDefaultsValuesAndErrors) {
  auto c = load(kBase);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin.rate_limit, 20U);
  EXPECT_EQ(c->admin.rate_burst, 100U);
  c = load(std::string(kBase) + "[admin]\nrate_limit = 0\nrate_burst = 7\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin.rate_limit, 0U);
  EXPECT_EQ(c->admin.rate_burst, 7U);
  const std::string b(kBase);
  EXPECT_EQ(error_of(b + "[admin]\nrate_burst = 0\n"),
            "test.toml:7: key 'admin.rate_burst': must be between 1 and 1000000");
  EXPECT_EQ(error_of(b + "[admin]\nrate_limit = \"5/s\"\n"),
            "test.toml:7: key 'admin.rate_limit': expected an integer");
}
