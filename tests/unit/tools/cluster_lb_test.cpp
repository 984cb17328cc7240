// `ftpsd firewall --cluster`: the nodes' plans (as the nodes table holds them) and the load balancer's
// HAProxy configuration, nftables ruleset and text summary made from them.
#include "tools/cluster_lb.hpp"

#include <gtest/gtest.h>

#include "config/load_text.hpp"

using namespace ftpsd;
using namespace ftpsd::tools;

namespace {

NodePlan node(std::string address, std::uint16_t first, std::uint16_t last,
              std::optional<config::PortRange> advertised = std::nullopt) {
  NodePlan p;
  p.address = std::move(address);
  p.listeners = {
      NodeListener{.host = "0.0.0.0", .port = 21, .tls = config::TlsMode::kExplicit, .proxy_protocol = true},
      NodeListener{
          .host = "0.0.0.0", .port = 990, .tls = config::TlsMode::kImplicit, .proxy_protocol = true}};
  p.passive = {PassiveSlice{.domain = "default", .ports = {first, last}, .advertised = advertised}};
  p.passive_address = "203.0.113.10";
  return p;
}

ClusterNode row(std::string name, const NodePlan& p) {
  return ClusterNode{.name = std::move(name), .plan_json = plan_json(p)};
}

LbPlan two_nodes(const LbOptions& options = {.public_address = "203.0.113.10", .control_ports = {}}) {
  return plan_load_balancer({row("node-a", node("10.0.1.11", 50000, 50099)),
                             row("node-b", node("10.0.1.12", 40000, 40099, config::PortRange{50100, 50199}))},
                            options);
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(NodePlan, FromTheConfigurationAndTheBoundListeners) {
  auto cfg = config::test_support::load(
      "[[listeners]]\naddress = \"0.0.0.0:0\"\nproxy_protocol = true\ntls = \"implicit\"\n"
      "[proxy_protocol]\ntrusted = [\"10.0.1.1\"]\n"
      "[passive]\naddress = \"203.0.113.10\"\nports = \"40000-40099\"\nadvertised_ports = \"50100-50199\"\n"
      "[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\n"
      "[cluster]\ndatabase = \"postgresql://db/ftpsd\"\naddress = \"10.0.1.12\"\n");
  ASSERT_TRUE(cfg) << cfg.error().message;
  auto bound = cfg->listeners;
  bound[0].port = 990;  // port 0 as bound
  const auto p = node_plan(*cfg, bound);
  EXPECT_EQ(p.address, "10.0.1.12");
  ASSERT_EQ(p.listeners.size(), 1U);
  EXPECT_EQ(p.listeners[0].port, 990);
  EXPECT_EQ(p.listeners[0].host, "0.0.0.0");
  EXPECT_EQ(p.listeners[0].tls, config::TlsMode::kImplicit);
  EXPECT_TRUE(p.listeners[0].proxy_protocol);
  ASSERT_EQ(p.passive.size(), 1U);
  EXPECT_EQ(p.passive[0].ports.first, 40000);
  EXPECT_EQ(p.passive[0].public_ports().first, 50100);
  EXPECT_EQ(p.passive_address, "203.0.113.10");
  EXPECT_EQ(
      plan_json(p),
      R"({"active":true,"address":"10.0.1.12","listeners":[{"host":"0.0.0.0","port":990,"proxy_protocol":true,)"
      R"("tls":"implicit"}],"passive":[{"advertised_ports":{"first":50100,"last":50199},"domain":"default",)"
      R"("ports":{"first":40000,"last":40099}}],"passive_address":"203.0.113.10","version":1})");
}

TEST(NodePlan, JsonRoundTripAndRefusals) {
  const auto p = node("10.0.1.11", 50000, 50099, config::PortRange{60000, 60099});
  auto back = parse_plan(plan_json(p));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(plan_json(*back), plan_json(p));
  EXPECT_EQ(parse_plan("{}").error(),
            "it published no plan (an ftpsd older than `firewall --cluster`): upgrade it");
  EXPECT_EQ(parse_plan("[1]").error(), "its plan is not a JSON object");
  EXPECT_EQ(parse_plan(R"({"version":2})").error(),
            "its plan is version 2, this ftpsd reads version 1: upgrade this ftpsd");
  auto text = plan_json(p);
  text.replace(text.find("60099"), 5, "60098");  // advertised range of another size
  EXPECT_EQ(parse_plan(text).error(), "its plan has a malformed passive slice");
}

TEST(LoadBalancer, HaproxyFrontendPerPublicPortEveryNodeWithProxyProtocolAndHealthCheck) {
  const auto plan = two_nodes();
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  EXPECT_TRUE(plan.warnings.empty()) << plan.warnings.front();
  const auto h = render_haproxy(plan);
  EXPECT_TRUE(has(h, "defaults\n    mode tcp\n")) << h;
  EXPECT_TRUE(has(h, "    retries 3\n    option redispatch 1\n")) << h;
  EXPECT_TRUE(has(h, "frontend ftpsd_21\n    bind 203.0.113.10:21\n    default_backend ftpsd_21\n")) << h;
  EXPECT_TRUE(has(h,
                  "backend ftpsd_21\n    balance leastconn\n"
                  "    # Healthy: the node answers with its 220 greeting (the check sends a PROXY header,\n"
                  "    # LOCAL, as the listener expects one).\n"
                  "    option tcp-check\n    tcp-check expect rstring ^220\n    tcp-check send QUIT\\r\\n\n"
                  "    default-server send-proxy-v2 check-send-proxy inter 1s fall 2 rise 1\n"
                  "    server node-a 10.0.1.11:21 check\n    server node-b 10.0.1.12:21 check\n"))
      << h;
  // Implicit TLS: the check speaks TLS before it reads the greeting.
  EXPECT_TRUE(has(h, "frontend ftpsd_990\n    bind 203.0.113.10:990\n")) << h;
  EXPECT_TRUE(
      has(h,
          "    default-server send-proxy-v2 check-send-proxy check-ssl verify none inter 1s fall 2 rise 1\n"
          "    server node-a 10.0.1.11:990 check\n"))
      << h;
}

TEST(LoadBalancer, NftablesDnatsEachSliceOneToOneWithoutMasquerade) {
  const auto n = render_lb_nftables(two_nodes());
  EXPECT_TRUE(has(n, "table inet ftpsd_lb\ndelete table inet ftpsd_lb\ntable inet ftpsd_lb {\n")) << n;
  EXPECT_TRUE(has(n,
                  "    ip daddr 203.0.113.10 tcp dport 21 accept comment \"HAProxy: explicit FTPS control "
                  "(AUTH TLS)\"\n"))
      << n;
  EXPECT_TRUE(
      has(n,
          "    ip daddr 203.0.113.10 tcp dport 50000-50099 dnat ip to 10.0.1.11 comment \"node node-a: "
          "passive data ports\"\n"))
      << n;
  // node-b listens on 40000-40099 and is public as 50100-50199: one element per port.
  EXPECT_TRUE(
      has(n,
          "    ip daddr 203.0.113.10 tcp dport 50100-50199 dnat ip to 10.0.1.12 : tcp dport map { 50100 : "
          "40000, 50101 : 40001, "))
      << n;
  EXPECT_TRUE(has(n, "50199 : 40099 } comment \"node node-b: passive data ports\"\n")) << n;
  EXPECT_TRUE(has(n, "    ip daddr 10.0.1.12 tcp dport 40000-40099 ct status dnat accept")) << n;
  EXPECT_TRUE(has(n, "type filter hook forward priority filter; policy drop;")) << n;
  EXPECT_FALSE(has(n, "chain postrouting")) << n;  // no node opens active connections: nothing masqueraded
}

TEST(LoadBalancer, ActiveModeNodesAreMasqueradedForTheirOwnConnectionsOnly) {
  auto a = node("10.0.1.11", 50000, 50099);
  a.active = true;
  const auto plan = plan_load_balancer({row("node-a", a)}, {});
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  const auto n = render_lb_nftables(plan);
  EXPECT_TRUE(has(n, "fib daddr type local tcp dport 50000-50099 dnat ip to 10.0.1.11")) << n;
  EXPECT_TRUE(has(n, "    ip saddr 10.0.1.11 tcp dport 1024-65535 accept")) << n;
  EXPECT_TRUE(has(n, "    ip saddr { 10.0.1.11 } ct status != dnat masquerade")) << n;
  EXPECT_TRUE(has(render_haproxy(plan), "    bind :21\n"));
}

TEST(LoadBalancer, ControlPortsMapToPublicPorts) {
  const auto plan = two_nodes({.public_address = "203.0.113.10", .control_ports = {{21, 2121}}});
  const auto h = render_haproxy(plan);
  EXPECT_TRUE(has(h, "frontend ftpsd_2121\n    bind 203.0.113.10:2121\n")) << h;
  EXPECT_TRUE(has(h, "    server node-a 10.0.1.11:21 check\n")) << h;
  EXPECT_FALSE(has(h, "frontend ftpsd_21\n")) << h;
  EXPECT_EQ(parse_control_port("2121=21"), (std::pair<std::uint16_t, std::uint16_t>{2121, 21}));
  EXPECT_FALSE(parse_control_port("2121"));
  EXPECT_FALSE(parse_control_port("0=21"));
  EXPECT_FALSE(parse_control_port("21=70000"));
  EXPECT_FALSE(parse_control_port("21=x"));
}

TEST(LoadBalancer, OverlappingSlicesAreAnError) {
  const auto plan = plan_load_balancer(
      {row("node-a", node("10.0.1.11", 50000, 50099)), row("node-b", node("10.0.1.12", 50050, 50149))}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_EQ(
      plan.errors[0],
      "the public passive slices overlap: node node-a has 50000-50099, node node-b has 50050-50149: give "
      "each node its own passive.ports (or passive.advertised_ports) in its own configuration");
  // Translated: the public slices overlap although the ports the nodes listen on do not.
  const auto translated =
      plan_load_balancer({row("node-a", node("10.0.1.11", 50000, 50099)),
                          row("node-b", node("10.0.1.12", 40000, 40099, config::PortRange{50000, 50099}))},
                         {});
  ASSERT_EQ(translated.errors.size(), 1U);
  EXPECT_TRUE(has(translated.errors[0], "node node-b has 50000-50099")) << translated.errors[0];
}

TEST(LoadBalancer, NodeWithoutAddressOrRangeOrProxyListenerIsAnError) {
  auto bare = node("", 50000, 50099);
  auto plan = plan_load_balancer({row("node-a", bare)}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_EQ(
      plan.errors[0],
      "node node-a has no address: set [cluster] address = \"...\" in its configuration to the IP address "
      "the load balancer reaches it at, and restart it");
  auto v6 = node("2001:db8::11", 50000, 50099);
  plan = plan_load_balancer({row("node-a", v6)}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_TRUE(has(plan.errors[0], "not an IPv4 address")) << plan.errors[0];
  auto no_range = node("10.0.1.11", 50000, 50099);
  no_range.passive.clear();
  plan = plan_load_balancer({row("node-a", no_range)}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_TRUE(has(plan.errors[0], "node node-a has no passive range")) << plan.errors[0];
  auto no_proxy = node("10.0.1.11", 50000, 50099);
  for (auto& l : no_proxy.listeners) l.proxy_protocol = false;
  plan = plan_load_balancer({row("node-a", no_proxy)}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_TRUE(has(plan.errors[0], "node node-a has no listener with proxy_protocol = true"))
      << plan.errors[0];
  EXPECT_EQ(plan.warnings.size(), 2U);  // each listener: left out
  plan = plan_load_balancer({ClusterNode{.name = "old", .plan_json = "{}"}}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_TRUE(has(plan.errors[0], "node old: it published no plan")) << plan.errors[0];
  EXPECT_EQ(plan_load_balancer({}, {}).errors.size(), 1U);
}

TEST(LoadBalancer, WarningsAreWrittenButTheConfigurationStillIs) {
  auto a = node("10.0.1.11", 50000, 50099);
  a.listeners[1].proxy_protocol = false;  // its 990 is left out
  a.passive_address = "";
  auto b = node("10.0.1.12", 50100, 50199);
  const auto plan = plan_load_balancer(
      {row("node-a", a),
       ClusterNode{.name = "node-b", .plan_json = plan_json(b), .down = true, .heartbeat_age_seconds = 42}},
      {.public_address = "203.0.113.10", .control_ports = {}});
  ASSERT_TRUE(plan.errors.empty()) << plan.errors.front();
  ASSERT_EQ(plan.warnings.size(), 4U);
  EXPECT_TRUE(
      has(plan.warnings[0], "node node-a: listener 0.0.0.0:990 has no proxy_protocol = true: left out"));
  EXPECT_TRUE(has(plan.warnings[1], "node node-a: passive.address is not set"));
  EXPECT_TRUE(has(plan.warnings[2], "node node-b is down (no heartbeat for 42 s)"));
  EXPECT_EQ(plan.warnings[3],
            "public port 990 (implicit FTPS control) goes to node-b only: node-a has no such listener");
}

TEST(LoadBalancer, OnePublicPortTakesOneKindOfConnection) {
  auto b = node("10.0.1.12", 50100, 50199);
  b.listeners[0].tls = config::TlsMode::kImplicit;  // 21, implicit on b, explicit on a
  const auto plan =
      plan_load_balancer({row("node-a", node("10.0.1.11", 50000, 50099)), row("node-b", b)}, {});
  ASSERT_EQ(plan.errors.size(), 1U);
  EXPECT_TRUE(has(plan.errors[0],
                  "public port 21: node node-b's listener 0.0.0.0:21 is implicit, but node-a's is "
                  "explicit"))
      << plan.errors[0];
}

TEST(LoadBalancer, TextSummarySaysWhatToOpenWhere) {
  const auto t = render_lb_text(two_nodes());
  EXPECT_TRUE(has(t, "The load balancer in front of the ftpsd cluster (2 nodes: node-a, node-b), TCP only:"))
      << t;
  EXPECT_TRUE(
      has(t,
          "balancer   inbound   TCP   21                     explicit FTPS control (AUTH TLS): HAProxy, "
          "to node-a 10.0.1.11:21, node-b 10.0.1.12:21"))
      << t;
  EXPECT_TRUE(has(t,
                  "balancer   inbound   TCP   50100-50199            passive data ports of node node-b: "
                  "forwarded (DNAT) to 10.0.1.12 ports 40000-40099"))
      << t;
  EXPECT_TRUE(has(t, "node-b     inbound   TCP   40000-40099            passive data, from the clients"))
      << t;
  const auto all = render_lb_all(two_nodes());
  EXPECT_TRUE(has(all, "\n# ==== HAProxy: ")) << all;
  EXPECT_TRUE(has(all, "\n# ==== nftables: ")) << all;
}
