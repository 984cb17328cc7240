#pragma once
// `ftpsd firewall`: what must be open for a configuration, and ready rules. Pure: a Config in, text
// out. The plan is computed once (plan()) and every format renders the same plan.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "util/result.hpp"

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
  // Router (nftables --nat-to): forward only connections to this public IPv4 (a domain's own
  // passive.address); empty: connections to any address of the router.
  std::string destination;
};

// What one domain needs open: its listeners (those tied to it and the untied ones) and its passive range.
struct DomainOpenings {
  std::string name;
  std::vector<std::string> hosts;
  std::vector<std::size_t> control;    // indexes into FirewallPlan::openings: its control ports
  std::optional<std::size_t> passive;  // and its passive range (none: no range to open)
  bool shared_ports = false;           // that range is the default domain's
};

struct FirewallPlan {
  std::vector<Opening> openings;
  std::vector<std::string> warnings;    // things the plan cannot fix (no passive range...)
  std::vector<DomainOpenings> domains;  // per domain; empty when the configuration has no [[domains]]
};

// Options for the router rules (nftables only): the server's internal address to DNAT to.
struct FirewallOptions {
  std::string nat_to;  // empty: rules for the server itself (input), no DNAT
};

// What a control listener carries, as the plans say it: "explicit FTPS control (AUTH TLS)".
[[nodiscard]] std::string_view control_name(config::TlsMode mode);

// Every domain's openings: each listener once, each passive range once.
[[nodiscard]] FirewallPlan plan_firewall(const config::Config& cfg);
// Only what the domain named `domain` needs ("default": the top level); an unknown name is an error
// naming the domains there are.
[[nodiscard]] Result<FirewallPlan, std::string> plan_firewall(const config::Config& cfg,
                                                              std::string_view domain);
[[nodiscard]] std::string render_firewall(const FirewallPlan& plan, FirewallFormat format,
                                          const FirewallOptions& options = {});
[[nodiscard]] std::optional<FirewallFormat> parse_firewall_format(std::string_view name);

}  // namespace ftpsd::tools
