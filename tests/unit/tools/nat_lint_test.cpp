#include "tools/nat_lint.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace ftpsd;
using Severity = tools::LintFinding::Severity;

namespace {

config::Config load(std::string_view text) {
  auto c = config::load_string(text, "t.toml", "/");
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

tools::Resolver fake(std::string name, std::string address) {
  return [=](const std::string& host) -> Result<asio::ip::address_v4, std::string> {
    if (host == name) return asio::ip::make_address_v4(address);
    return Unexpected{std::string("Name or service not known")};
  };
}

const tools::LintFinding* find(const std::vector<tools::LintFinding>& v, std::string_view key,
                               std::string_view text) {
  for (const auto& f : v)
    if (f.key == key && f.message.find(text) != std::string::npos) return &f;
  return nullptr;
}

constexpr std::string_view kBase = "[[listeners]]\naddress = \"0.0.0.0:21\"\n[server]\nmax_sessions = 100\n";

}  // namespace

TEST(NatLint, CleanPublicSetupHasNoFindings) {
  const auto f = tools::lint_nat(load(std::string(kBase) + "[passive]\nports = \"50000-50099\"\naddress = "
                                                           "\"198.51.100.1\"\n"),
                                 fake("", ""));
  EXPECT_TRUE(f.empty()) << f.front().message;
}

TEST(NatLint, EmptyRangeAndEmptyAddressBehindAnyAddress) {
  const auto f = tools::lint_nat(load(kBase), fake("", ""));
  EXPECT_TRUE(find(f, "passive.ports", "empty"));
  EXPECT_TRUE(find(f, "passive.address", "behind a NAT router"));
}

TEST(NatLint, RangeOverlappingAListenerIsAnError) {
  const auto f =
      tools::lint_nat(load("[[listeners]]\naddress = \"0.0.0.0:50010\"\n[server]\nmax_sessions = 1\n"
                           "[passive]\nports = \"50000-50099\"\naddress = \"198.51.100.1\"\n"),
                      fake("", ""));
  const auto* e = find(f, "passive.ports", "contains the listener port 50010");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, Severity::kError);
}

TEST(NatLint, SmallRangeForMaxSessions) {
  const auto f = tools::lint_nat(load("[[listeners]]\naddress = \"127.0.0.1:21\"\n[passive]\nports = "
                                      "\"50000-50009\"\n"),
                                 fake("", ""));
  const auto* w = find(f, "passive.ports", "10 ports for server.max_sessions = 10000");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->severity, Severity::kWarning);
}

TEST(NatLint, PrivateAddressWithoutOverridesAndUnresolvableName) {
  const auto base = std::string(kBase) + "[passive]\nports = \"50000-50099\"\n";
  auto f = tools::lint_nat(load(base + "address = \"10.0.0.2\"\n"), fake("", ""));
  EXPECT_TRUE(find(f, "passive.address", "private address"));
  f = tools::lint_nat(load(base + "address = \"10.0.0.2\"\n[[passive.address_overrides]]\nnetworks = "
                                  "[\"10.0.0.0/8\"]\naddress = \"local\"\n"),
                      fake("", ""));
  EXPECT_FALSE(find(f, "passive.address", "private address"));
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"), fake("other", "1.2.3.4"));
  const auto* e = find(f, "passive.address", "does not resolve");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, Severity::kError);
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"),
                      fake("ftp.example.test", "192.168.1.5"));
  EXPECT_TRUE(find(f, "passive.address", "resolves to 192.168.1.5"));
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"),
                      fake("ftp.example.test", "198.51.100.1"));
  EXPECT_TRUE(f.empty());
}

TEST(NatLint, ProxyTrustingEveryone) {
  const auto f = tools::lint_nat(load("[[listeners]]\naddress = \"0.0.0.0:21\"\nproxy_protocol = true\n"
                                      "[proxy_protocol]\ntrusted = [\"0.0.0.0/0\"]\n"),
                                 fake("", ""));
  EXPECT_TRUE(find(f, "proxy_protocol.trusted", "trusts nearly everyone"));
}
