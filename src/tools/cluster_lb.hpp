#pragma once
// `ftpsd firewall --cluster`: the load balancer in front of a cluster (README "The load balancer").
//
// Each node publishes a plan of itself in the nodes table (NodePlan, as JSON): the address the balancer
// reaches it at ([cluster] address), its control listeners and its slice of the public passive range.
// From the plans of the nodes, plan_load_balancer() decides the balancer's set-up: one HAProxy frontend
// per public control port (every node a server, with the PROXY protocol, so that the nodes see the
// client's address), and one nftables DNAT per node's slice (passive data connections go straight to
// the node that gave the port, with the client's address kept). The renderers write it as an HAProxy
// configuration, an nftables ruleset and a text summary. Pure: plans in, text out.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ftpsd::tools {

// The version of the JSON below; a node with a newer one is left out, with a warning.
inline constexpr int kNodePlanVersion = 1;

struct NodeListener {
  std::string host;  // as bound: "0.0.0.0", "10.0.1.11", "::"
  std::uint16_t port = 0;
  config::TlsMode tls = config::TlsMode::kNone;
  bool proxy_protocol = false;
};

// One passive range of a node: the ports it listens on, and the public ports the balancer forwards to
// them when they differ (passive.advertised_ports).
struct PassiveSlice {
  std::string domain;  // "default": the top-level range; else a domain with a range of its own
  config::PortRange ports;
  std::optional<config::PortRange> advertised;
  [[nodiscard]] config::PortRange public_ports() const { return advertised ? *advertised : ports; }
};

// What a node says of itself in the nodes table (column plan).
struct NodePlan {
  std::string address;  // [cluster] address; empty: not set
  std::vector<NodeListener> listeners;
  std::vector<PassiveSlice> passive;
  std::string passive_address;  // passive.address; empty: the control connection's address
  bool active = false;          // active.enabled: the node opens data connections to clients
};

// The node's plan from its configuration and its listeners as bound (port 0 replaced).
[[nodiscard]] NodePlan node_plan(const config::Config& cfg, const std::vector<config::ListenerConfig>& bound);
[[nodiscard]] std::string plan_json(const NodePlan& plan);
// Error: why the text is not a plan (a node of an older version registered "{}": no plan).
[[nodiscard]] Result<NodePlan, std::string> parse_plan(std::string_view text);

// A node as the nodes table lists it.
struct ClusterNode {
  std::string name;
  std::string plan_json;  // the column plan
  bool down = false;      // no heartbeat for a while (killed, or cut off)
  double heartbeat_age_seconds = 0;
};

struct LbOptions {
  std::string public_address;  // the balancer's public IPv4; empty: every address of the balancer
  // A node's control port -> the public port the balancer listens on (--control-port 2121=21); a port
  // not named is public as it is.
  std::map<std::uint16_t, std::uint16_t> control_ports;
};

struct LbServer {
  std::string node;
  std::string address;
  std::uint16_t port = 0;
};

// One public control port: HAProxy listens on it and sends each client to a node.
struct LbFrontend {
  std::uint16_t port = 0;
  config::TlsMode tls = config::TlsMode::kNone;
  std::vector<LbServer> servers;
};

// One node's slice: connections to the public ports go to the node's address, on its ports.
struct LbForward {
  std::string node;
  std::string address;
  std::string domain;
  config::PortRange public_ports;
  config::PortRange node_ports;
};

struct LbPlan {
  std::string public_address;
  std::vector<std::string> nodes;  // the names of the nodes in the plan
  std::vector<LbFrontend> frontends;
  std::vector<LbForward> forwards;
  std::vector<std::pair<std::string, std::string>>
      active;                         // nodes that open active connections: name, address
  std::vector<std::string> errors;    // the plan cannot be written (overlapping slices, no address...)
  std::vector<std::string> warnings;  // written, but something is probably wrong
};

[[nodiscard]] LbPlan plan_load_balancer(const std::vector<ClusterNode>& nodes, const LbOptions& options);

[[nodiscard]] std::string render_haproxy(const LbPlan& plan);
[[nodiscard]] std::string render_lb_nftables(const LbPlan& plan);
[[nodiscard]] std::string render_lb_text(const LbPlan& plan);
// The text summary, then the two files, each after a header saying where it goes.
[[nodiscard]] std::string render_lb_all(const LbPlan& plan);

// "--control-port 2121=21". nullopt: malformed.
[[nodiscard]] std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_control_port(
    std::string_view text);

}  // namespace ftpsd::tools
