#include "tools/firewall.hpp"

#include <gtest/gtest.h>

#include "config/loader.hpp"

using namespace ftpsd;

namespace {

config::Config load(std::string_view text) {
  auto c = config::load_string(text, "t.toml", "/");
  EXPECT_TRUE(c) << c.error().message;
  return *c;
}

bool has(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

constexpr std::string_view kNat = R"(
[[listeners]]
address = "0.0.0.0:21"
tls = "none"
[[listeners]]
address = "0.0.0.0:990"
tls = "none"
[passive]
ports = "50000-50002"
advertised_ports = "30000-30002"
address = "198.51.100.1"
[active]
source_port = 20
)";

}  // namespace

TEST(Firewall, PlanListsControlPassiveAndActive) {
  const auto plan = tools::plan_firewall(load(kNat));
  ASSERT_EQ(plan.openings.size(), 4u);
  EXPECT_EQ(plan.openings[0].ports.first, 21);
  EXPECT_TRUE(plan.openings[0].inbound);
  EXPECT_EQ(plan.openings[1].ports.first, 990);
  EXPECT_EQ(plan.openings[2].ports.first, 50000);
  EXPECT_EQ(plan.openings[2].ports.last, 50002);
  ASSERT_TRUE(plan.openings[2].external);
  EXPECT_EQ(plan.openings[2].external->first, 30000);
  EXPECT_FALSE(plan.openings[3].inbound);
  EXPECT_EQ(plan.openings[3].source_port, 20);
  EXPECT_EQ(plan.openings[3].ports.first, 1024);
  EXPECT_TRUE(plan.warnings.empty());
}

TEST(Firewall, TextSaysWhatAndWhyAndMentionsUdpAndHelpers) {
  const auto text = tools::render_firewall(tools::plan_firewall(load(kNat)), tools::FirewallFormat::kText);
  EXPECT_TRUE(has(text, "inbound   TCP   21 ")) << text;
  EXPECT_TRUE(has(text, "inbound   TCP   50000-50002")) << text;
  EXPECT_TRUE(has(text, "external 30000-30002")) << text;
  EXPECT_TRUE(has(text, "outbound  TCP   20 -> 1024-65535")) << text;
  EXPECT_TRUE(has(text, "UDP: nothing")) << text;
  EXPECT_TRUE(has(text, "ALG")) << text;
  EXPECT_TRUE(has(text, "established")) << text;
}

TEST(Firewall, NoRangeAndDisabledActiveMode) {
  const auto plan =
      tools::plan_firewall(load("[[listeners]]\naddress = \"0.0.0.0:2121\"\n[active]\nenabled = false\n"));
  ASSERT_EQ(plan.openings.size(), 1u);
  ASSERT_EQ(plan.warnings.size(), 1u);
  EXPECT_TRUE(has(plan.warnings[0], "passive.ports is empty"));
}

TEST(Firewall, NftablesServerRules) {
  const auto nft = tools::render_firewall(tools::plan_firewall(load(kNat)), tools::FirewallFormat::kNftables);
  EXPECT_TRUE(has(nft, "table inet ftpsd {")) << nft;
  EXPECT_TRUE(has(nft, "policy drop;")) << nft;
  EXPECT_TRUE(has(nft, "tcp dport 21 accept")) << nft;
  EXPECT_TRUE(has(nft, "tcp dport 50000-50002 accept")) << nft;
  EXPECT_FALSE(has(nft, "dnat")) << nft;
}

TEST(Firewall, NftablesRouterTranslatesPortsOneToOne) {
  const auto nft = tools::render_firewall(tools::plan_firewall(load(kNat)), tools::FirewallFormat::kNftables,
                                          {.nat_to = "10.0.0.2"});
  EXPECT_TRUE(has(nft, "tcp dport 21 dnat ip to 10.0.0.2")) << nft;
  EXPECT_TRUE(has(nft,
                  "tcp dport 30000-30002 dnat ip to 10.0.0.2 : tcp dport map { 30000 : 50000, 30001 : "
                  "50001, 30002 : 50002 }"))
      << nft;
  EXPECT_TRUE(has(nft, "ip daddr 10.0.0.2 tcp dport 50000-50002 ct status dnat accept")) << nft;
  EXPECT_TRUE(has(nft, "ip saddr 10.0.0.2 tcp sport 20 tcp dport 1024-65535 accept")) << nft;
  EXPECT_TRUE(has(nft, "masquerade")) << nft;
}

TEST(Firewall, ProxyListenerOpenOnlyToTrusted) {
  const auto cfg = load(
      "[[listeners]]\naddress = \"0.0.0.0:2121\"\nproxy_protocol = true\n[proxy_protocol]\ntrusted = "
      "[\"10.1.0.0/24\", \"2001:db8::/64\"]\n[passive]\nports = \"50000-50009\"\n");
  const auto plan = tools::plan_firewall(cfg);
  const auto nft = tools::render_firewall(plan, tools::FirewallFormat::kNftables);
  EXPECT_TRUE(has(nft, "ip saddr { 10.1.0.0/24 } tcp dport 2121 accept")) << nft;
  EXPECT_TRUE(has(nft, "ip6 saddr { 2001:db8::/64 } tcp dport 2121 accept")) << nft;
  const auto ipt = tools::render_firewall(plan, tools::FirewallFormat::kIptables);
  EXPECT_TRUE(has(ipt, "iptables -A INPUT -p tcp -s 10.1.0.0/24 --dport 2121 -j ACCEPT")) << ipt;
  EXPECT_TRUE(has(ipt, "ip6tables -A INPUT -p tcp -s 2001:db8::/64 --dport 2121 -j ACCEPT")) << ipt;
  EXPECT_TRUE(has(ipt, "--dport 50000:50009 -j ACCEPT")) << ipt;
}

TEST(Firewall, UfwAndFirewalld) {
  const auto plan = tools::plan_firewall(load(kNat));
  const auto ufw = tools::render_firewall(plan, tools::FirewallFormat::kUfw);
  EXPECT_TRUE(has(ufw, "ufw allow proto tcp to any port 50000:50002")) << ufw;
  const auto fwd = tools::render_firewall(plan, tools::FirewallFormat::kFirewalld);
  EXPECT_TRUE(has(fwd, "firewall-cmd --permanent --add-port=50000-50002/tcp")) << fwd;
  EXPECT_TRUE(has(fwd, "firewall-cmd --permanent --add-port=21/tcp")) << fwd;
  EXPECT_TRUE(has(fwd, "--reload")) << fwd;
}

TEST(Firewall, ParseFormat) {
  EXPECT_EQ(tools::parse_firewall_format("nftables"), tools::FirewallFormat::kNftables);
  EXPECT_FALSE(tools::parse_firewall_format("pf"));
}

namespace {

// Two domains beside the default: acme with its own range, public address and a listener of its own;
// beta sharing the default's range.
constexpr std::string_view kDomains = R"(
[[listeners]]
address = "0.0.0.0:21"
tls = "none"
[[listeners]]
address = "0.0.0.0:2122"
tls = "none"
domain = "acme"
[passive]
ports = "50000-50009"
address = "198.51.100.1"
[active]
enabled = false
[[domains]]
name = "acme"
hosts = ["ftp.acme.example"]
[domains.passive]
ports = "51000-51002"
advertised_ports = "41000-41002"
address = "203.0.113.7"
[[domains]]
name = "beta"
hosts = ["ftp.beta.example"]
)";

const tools::Opening* opening(const tools::FirewallPlan& plan, std::string_view what) {
  for (const auto& o : plan.openings)
    if (o.what == what) return &o;
  return nullptr;
}

}  // namespace

TEST(FirewallDomains, PlanOpensEveryListenerOnceAndEveryRangeOnce) {
  const auto plan = tools::plan_firewall(load(kDomains));
  ASSERT_EQ(plan.openings.size(), 4u) << render_firewall(plan, tools::FirewallFormat::kText);
  const auto* control = opening(plan, "FTP control (clear text)");
  ASSERT_TRUE(control);
  EXPECT_EQ(control->ports.first, 21);
  const auto* acme_control = opening(plan, "FTP control (clear text) of domain acme");
  ASSERT_TRUE(acme_control);
  EXPECT_EQ(acme_control->ports.first, 2122);
  const auto* shared = opening(plan, "passive data ports of domains default, beta");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->ports.first, 50000);
  EXPECT_EQ(shared->ports.last, 50009);
  EXPECT_TRUE(shared->destination.empty());
  const auto* acme = opening(plan, "passive data ports of domain acme");
  ASSERT_TRUE(acme);
  EXPECT_EQ(acme->ports.first, 51000);
  EXPECT_EQ(acme->ports.last, 51002);
  ASSERT_TRUE(acme->external);
  EXPECT_EQ(acme->external->first, 41000);
  EXPECT_EQ(acme->destination, "203.0.113.7");
  ASSERT_EQ(plan.domains.size(), 3u);
  EXPECT_EQ(plan.domains[1].name, "acme");
  EXPECT_EQ(plan.domains[1].control.size(), 2u) << "the untied listener and its own";
  EXPECT_EQ(plan.domains[2].control.size(), 1u) << "beta is not served on acme's listener";
  EXPECT_TRUE(plan.domains[2].shared_ports);
}

TEST(FirewallDomains, DomainFilterKeepsOnlyWhatThatDomainNeeds) {
  const auto cfg = load(kDomains);
  auto acme = tools::plan_firewall(cfg, "acme");
  ASSERT_TRUE(acme) << acme.error();
  ASSERT_EQ(acme->openings.size(), 3u);
  EXPECT_TRUE(opening(*acme, "FTP control (clear text)"));
  EXPECT_TRUE(opening(*acme, "FTP control (clear text) of domain acme"));
  EXPECT_TRUE(opening(*acme, "passive data ports of domain acme"));
  auto beta = tools::plan_firewall(cfg, "beta");
  ASSERT_TRUE(beta) << beta.error();
  ASSERT_EQ(beta->openings.size(), 2u);
  EXPECT_TRUE(opening(*beta, "FTP control (clear text)"));
  const auto* shared = opening(*beta, "passive data ports of domain beta (the default domain's range)");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->ports.first, 50000);
  auto fallback = tools::plan_firewall(cfg, "default");
  ASSERT_TRUE(fallback) << fallback.error();
  EXPECT_EQ(fallback->openings.size(), 2u);
  EXPECT_FALSE(opening(*fallback, "FTP control (clear text) of domain acme"));
  auto unknown = tools::plan_firewall(cfg, "gamma");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error(), "no domain is named 'gamma' (the domains: default, acme, beta)");
}

TEST(FirewallDomains, EveryFormatCoversBothRanges) {
  const auto plan = tools::plan_firewall(load(kDomains));
  const auto text = tools::render_firewall(plan, tools::FirewallFormat::kText);
  EXPECT_TRUE(has(text, "inbound   TCP   51000-51002")) << text;
  EXPECT_TRUE(has(text, "inbound   TCP   50000-50009")) << text;
  EXPECT_TRUE(has(text,
                  "  acme (ftp.acme.example): TCP 21, 2122 (control), 51000-51002 (passive data; the router "
                  "forwards external 41000-41002 of 203.0.113.7)\n"))
      << text;
  EXPECT_TRUE(has(text,
                  "  beta (ftp.beta.example): TCP 21 (control), 50000-50009 (passive data, the default "
                  "domain's range)\n"))
      << text;
  const auto nft = tools::render_firewall(plan, tools::FirewallFormat::kNftables);
  EXPECT_TRUE(
      has(nft, "tcp dport 50000-50009 accept comment \"passive data ports of domains default, beta\""))
      << nft;
  EXPECT_TRUE(has(nft, "tcp dport 51000-51002 accept comment \"passive data ports of domain acme\"")) << nft;
  EXPECT_TRUE(has(nft, "tcp dport 2122 accept comment \"FTP control (clear text) of domain acme\"")) << nft;
  const auto ipt = tools::render_firewall(plan, tools::FirewallFormat::kIptables);
  EXPECT_TRUE(has(ipt, "--dport 50000:50009 -j ACCEPT")) << ipt;
  EXPECT_TRUE(has(ipt, "--dport 51000:51002 -j ACCEPT  # passive data ports of domain acme")) << ipt;
  EXPECT_TRUE(has(ipt, "# on the router: forward TCP 41000-41002 of 203.0.113.7 to the server's 51000-51002"))
      << ipt;
  const auto ufw = tools::render_firewall(plan, tools::FirewallFormat::kUfw);
  EXPECT_TRUE(has(ufw, "port 50000:50009 comment 'ftpsd passive data ports of domains default, beta'"))
      << ufw;
  EXPECT_TRUE(has(ufw, "port 51000:51002 comment 'ftpsd passive data ports of domain acme'")) << ufw;
  const auto fwd = tools::render_firewall(plan, tools::FirewallFormat::kFirewalld);
  EXPECT_TRUE(has(fwd, "--add-port=50000-50009/tcp")) << fwd;
  EXPECT_TRUE(has(fwd, "--add-port=51000-51002/tcp")) << fwd;
  EXPECT_TRUE(has(fwd, "--add-port=2122/tcp")) << fwd;
}

TEST(FirewallDomains, RouterForwardsADomainsRangeFromItsOwnAddress) {
  const auto nft = tools::render_firewall(tools::plan_firewall(load(kDomains)),
                                          tools::FirewallFormat::kNftables, {.nat_to = "10.0.0.2"});
  EXPECT_TRUE(
      has(nft,
          "    ip daddr 203.0.113.7 tcp dport 41000-41002 dnat ip to 10.0.0.2 : tcp dport map { 41000 : "
          "51000, 41001 : 51001, 41002 : 51002 } comment \"passive data ports of domain acme\"\n"))
      << nft;
  EXPECT_TRUE(has(nft,
                  "    fib daddr type local tcp dport 50000-50009 dnat ip to 10.0.0.2 comment \"passive data "
                  "ports of domains default, beta\"\n"))
      << nft;
  EXPECT_TRUE(has(nft, "fib daddr type local tcp dport 2122 dnat ip to 10.0.0.2")) << nft;
  EXPECT_TRUE(has(nft, "ip daddr 10.0.0.2 tcp dport 51000-51002 ct status dnat accept")) << nft;
  EXPECT_TRUE(has(nft, "ip daddr 10.0.0.2 tcp dport 50000-50009 ct status dnat accept")) << nft;
}

TEST(FirewallDomains, ADomainWithoutAnAddressOfItsOwnForwardsFromAnyRouterAddress) {
  const auto cfg = load(
      "[[listeners]]\naddress = \"0.0.0.0:21\"\n[passive]\nports = \"50000-50009\"\naddress = "
      "\"198.51.100.1\"\n"
      "[[domains]]\nname = \"acme\"\n[domains.passive]\nports = \"51000-51009\"\n");
  const auto plan = tools::plan_firewall(cfg);
  const auto* acme = opening(plan, "passive data ports of domain acme");
  ASSERT_TRUE(acme);
  EXPECT_TRUE(acme->destination.empty()) << "it advertises the default's address";
  const auto nft = tools::render_firewall(plan, tools::FirewallFormat::kNftables, {.nat_to = "10.0.0.2"});
  EXPECT_TRUE(has(nft, "fib daddr type local tcp dport 51000-51009 dnat ip to 10.0.0.2")) << nft;
}
