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
