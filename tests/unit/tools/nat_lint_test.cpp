#include "tools/nat_lint.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace ftpsd;
using Severity = tools::LintFinding::Severity;
using tools::LintStage;

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
                                 fake("", ""), LintStage::kCheck);
  EXPECT_TRUE(f.empty()) << f.front().message;
}

TEST(NatLint, EmptyRangeAndEmptyAddressBehindAnyAddress) {
  const auto f = tools::lint_nat(load(kBase), fake("", ""), LintStage::kCheck);
  EXPECT_TRUE(find(f, "passive.ports", "empty"));
  EXPECT_TRUE(find(f, "passive.address", "behind a NAT router"));
}

TEST(NatLint, RangeOverlappingAListenerIsAnError) {
  const auto f =
      tools::lint_nat(load("[[listeners]]\naddress = \"0.0.0.0:50010\"\n[server]\nmax_sessions = 1\n"
                           "[passive]\nports = \"50000-50099\"\naddress = \"198.51.100.1\"\n"),
                      fake("", ""), LintStage::kCheck);
  const auto* e = find(f, "passive.ports", "contains the listener port 50010");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, Severity::kError);
}

TEST(NatLint, SmallRangeForMaxSessions) {
  const auto f = tools::lint_nat(load("[[listeners]]\naddress = \"127.0.0.1:21\"\n[passive]\nports = "
                                      "\"50000-50009\"\n"),
                                 fake("", ""), LintStage::kCheck);
  const auto* w = find(f, "passive.ports", "10 ports for server.max_sessions = 10000");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->severity, Severity::kWarning);
}

TEST(NatLint, PrivateAddressWithoutOverridesAndUnresolvableName) {
  const auto base = std::string(kBase) + "[passive]\nports = \"50000-50099\"\n";
  auto f = tools::lint_nat(load(base + "address = \"10.0.0.2\"\n"), fake("", ""), LintStage::kCheck);
  EXPECT_TRUE(find(f, "passive.address", "private address"));
  f = tools::lint_nat(load(base + "address = \"10.0.0.2\"\n[[passive.address_overrides]]\nnetworks = "
                                  "[\"10.0.0.0/8\"]\naddress = \"local\"\n"),
                      fake("", ""), LintStage::kCheck);
  EXPECT_FALSE(find(f, "passive.address", "private address"));
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"), fake("other", "1.2.3.4"),
                      LintStage::kCheck);
  const auto* w = find(f, "passive.address", "does not resolve here now");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->severity, Severity::kWarning) << "it may resolve where and when the server runs";
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"), fake("other", "1.2.3.4"),
                      LintStage::kStart);
  const auto* e = find(f, "passive.address", "does not resolve");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->severity, Severity::kError) << "the starting server cannot advertise it";
  EXPECT_NE(e->message.find("PASV replies carry the local address until it does"), std::string::npos);
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"),
                      fake("ftp.example.test", "192.168.1.5"), LintStage::kCheck);
  EXPECT_TRUE(find(f, "passive.address", "resolves to 192.168.1.5"));
  f = tools::lint_nat(load(base + "address = \"ftp.example.test\"\n"),
                      fake("ftp.example.test", "198.51.100.1"), LintStage::kCheck);
  EXPECT_TRUE(f.empty());
}

TEST(NatLint, ProxyTrustingEveryone) {
  const auto f = tools::lint_nat(load("[[listeners]]\naddress = \"0.0.0.0:21\"\nproxy_protocol = true\n"
                                      "[proxy_protocol]\ntrusted = [\"0.0.0.0/0\"]\n"),
                                 fake("", ""), LintStage::kCheck);
  EXPECT_TRUE(find(f, "proxy_protocol.trusted", "trusts nearly everyone"));
}

TEST(NatLint, FindingsNameTheLineOfTheirKey) {
  const auto cfg = load(
      "[[listeners]]\n"              // 1
      "address = \"0.0.0.0:21\"\n"   // 2
      "proxy_protocol = true\n"      // 3
      "\n"                           // 4
      "[proxy_protocol]\n"           // 5
      "trusted = [\"0.0.0.0/0\"]\n"  // 6
      "[passive]\n"                  // 7
      "resolve_every = \"1m\"\n"     // 8
      "address = \"10.0.0.2\"\n"     // 9
      "[active]\n"                   // 10
      "source_port = 20\n");         // 11
  const auto f = tools::lint_nat(cfg, fake("", ""), LintStage::kCheck);
  const auto* trusted = find(f, "proxy_protocol.trusted", "trusts nearly everyone");
  const auto* address = find(f, "passive.address", "private address");
  const auto* source_port = find(f, "active.source_port", "privileged");
  const auto* ports = find(f, "passive.ports", "empty");
  ASSERT_TRUE(trusted && address && source_port && ports);
  EXPECT_EQ(trusted->line, 6u);
  EXPECT_EQ(address->line, 9u);
  EXPECT_EQ(source_port->line, 11u);
  EXPECT_EQ(ports->line, 7u) << "a key that is not written: the line of its table";
  EXPECT_EQ(tools::location(cfg, *address), "t.toml:9");

  // No [passive] table at all: the finding names the file only.
  const auto bare = load("[[listeners]]\naddress = \"127.0.0.1:21\"\n");
  const auto g = tools::lint_nat(bare, fake("", ""), LintStage::kCheck);
  const auto* empty = find(g, "passive.ports", "empty");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->line, 0u);
  EXPECT_EQ(tools::location(bare, *empty), "t.toml");
}

// `make run` starts on the embedded default: it must not warn about itself.
TEST(NatLint, EmbeddedDefaultHasNoFindings) {
  auto cfg = config::load_embedded_default();
  ASSERT_TRUE(cfg) << cfg.error().message;
  for (const auto stage : {LintStage::kCheck, LintStage::kStart}) {
    const auto f = tools::lint_nat(*cfg, fake("", ""), stage);
    for (const auto& finding : f) ADD_FAILURE() << finding.key << ": " << finding.message;
  }
}

TEST(NatLint, ADomainsFindingsNameTheDomainAndItsKey) {
  const auto cfg = load(
      "[[listeners]]\n"                // 1
      "address = \"0.0.0.0:21\"\n"     // 2
      "[server]\n"                     // 3
      "max_sessions = 10\n"            // 4
      "[passive]\n"                    // 5
      "ports = \"50000-50099\"\n"      // 6
      "address = \"198.51.100.1\"\n"   // 7
      "[[domains]]\n"                  // 8
      "name = \"beta\"\n"              // 9
      "[[domains]]\n"                  // 10
      "name = \"acme\"\n"              // 11
      "[domains.passive]\n"            // 12
      "ports = \"51000-51004\"\n"      // 13
      "address = \"192.168.1.7\"\n");  // 14
  const auto f = tools::lint_nat(cfg, fake("", ""), LintStage::kCheck);
  const auto* small =
      find(f, "domains[1].passive.ports", "domain acme: 5 ports for server.max_sessions = 10");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->line, 13u);
  const auto* address =
      find(f, "domains[1].passive.address", "domain acme: 192.168.1.7 is a private address");
  ASSERT_TRUE(address);
  EXPECT_EQ(address->line, 14u);
  EXPECT_EQ(f.size(), 2u) << "beta inherits the default's settings, checked once";
}
