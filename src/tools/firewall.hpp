#pragma once
// `ftpsd firewall`: what must be open for a configuration, and ready rules. Pure: a Config in, text
// out. The plan is computed once (plan()) and every format renders the same plan.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace ftpsd::tools {

enum class FirewallFormat : std::uint8_t { kText, kNftables, kIptables, kUfw, kFirewalld };

// One thing to open: TCP ports, inbound to the server (connections the clients open), or outbound
// from it (active mode). Replies of established connections always pass the other way.
struct Opening {
  std::string what;                           // "explicit FTPS control", "passive data ports", ...
  config::PortRange ports;                    // on the server (internal)
  std::optional<config::PortRange> external;  // on the router, when it translates (advertised_ports)
  bool inbound = true;
  std::uint16_t source_port = 0;     // outbound: the server's fixed source port (0: any)
  std::vector<std::string> sources;  // inbound: only from these networks (PROXY protocol); empty: any
};

struct FirewallPlan {
  std::vector<Opening> openings;
  std::vector<std::string> warnings;  // things the plan cannot fix (no passive range...)
};

// Options for the router rules (nftables only): the server's internal address to DNAT to.
struct FirewallOptions {
  std::string nat_to;  // empty: rules for the server itself (input), no DNAT
};

[[nodiscard]] FirewallPlan plan_firewall(const config::Config& cfg);
[[nodiscard]] std::string render_firewall(const FirewallPlan& plan, FirewallFormat format,
                                          const FirewallOptions& options = {});
[[nodiscard]] std::optional<FirewallFormat> parse_firewall_format(std::string_view name);

}  // namespace ftpsd::tools
