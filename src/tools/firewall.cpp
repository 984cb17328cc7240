#include "tools/firewall.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "inet/ip_network.hpp"
#include "runtime/asio.hpp"

namespace ftpsd::tools {
namespace {

constexpr config::PortRange kClientPorts{1024, 65535};  // active mode: PORT/EPRT below 1024 are refused
constexpr std::string_view kHelperNote =
    "FTP helpers and ALGs (nf_conntrack_ftp, \"FTP fixup\", a router's \"FTP ALG\") cannot read an encrypted "
    "control connection, so they are useless for FTPS, and for clear FTP they rewrite what ftpsd already "
    "gets "
    "right: disable them. ftpsd advertises the address itself (passive.address).";
constexpr std::string_view kUdpNote = "UDP: nothing; FTP and FTPS use TCP only.";

std::string range_text(const config::PortRange& r, char sep = '-') {
  if (r.first == r.last) return std::to_string(r.first);
  return fmt::format("{}{}{}", r.first, sep, r.last);
}

std::vector<std::string> network_texts(const std::vector<inet::IpNetwork>& networks) {
  std::vector<std::string> out;
  out.reserve(networks.size());
  for (const auto& n : networks) out.push_back(n.to_string());
  return out;
}

std::string describe_opening(const Opening& o) {
  std::string s = o.what;
  if (o.external)
    s += fmt::format(" (the router forwards external {}{} to these)", range_text(*o.external),
                     o.destination.empty() ? "" : " of " + o.destination);
  if (!o.sources.empty()) s += fmt::format(" (only from {})", fmt::join(o.sources, ", "));
  return s;
}

std::string render_text(const FirewallPlan& plan) {
  std::string out = "What to open on the firewall for ftpsd (TCP only):\n\n";
  out += fmt::format("  {:<9} {:<5} {:<22} {}\n", "direction", "proto", "port(s)", "what");
  for (const auto& o : plan.openings) {
    std::string ports = range_text(o.ports);
    if (!o.inbound)
      ports =
          fmt::format("{} -> {}", o.source_port ? std::to_string(o.source_port) : "any", range_text(o.ports));
    out += fmt::format("  {:<9} {:<5} {:<22} {}\n", o.inbound ? "inbound" : "outbound", "TCP", ports,
                       describe_opening(o));
    if (o.external)
      out += fmt::format("  {:<9} {:<5} {:<22} {}\n", "router", "TCP", range_text(*o.external),
                         "external ports clients connect to, forwarded to the line above");
  }
  if (!plan.domains.empty()) out += "\nPer domain (inbound):\n";
  for (const auto& d : plan.domains) {
    std::vector<std::string> ports;
    for (const auto i : d.control) ports.push_back(range_text(plan.openings[i].ports));
    std::string line = d.name;
    if (!d.hosts.empty()) line += fmt::format(" ({})", fmt::join(d.hosts, ", "));
    line += ": TCP ";
    if (!ports.empty()) line += fmt::format("{} (control)", fmt::join(ports, ", "));
    if (d.passive) {
      const auto& o = plan.openings[*d.passive];
      line += fmt::format("{}{} (passive data", ports.empty() ? "" : ", ", range_text(o.ports));
      if (d.shared_ports) line += ", the default domain's range";
      if (o.external)
        line += fmt::format("; the router forwards external {}{}", range_text(*o.external),
                            o.destination.empty() ? "" : " of " + o.destination);
      else if (!o.destination.empty())
        line += fmt::format("; the router forwards those of {}", o.destination);
      line += ")";
    } else {
      line += fmt::format("{}no passive range: set passive.ports", ports.empty() ? "" : ", ");
    }
    out += fmt::format("  {}\n", line);
  }
  out +=
      "\nInbound: connections clients open to the server. Outbound: connections the server opens.\n"
      "Replies of established connections pass the other way: allow \"established,related\" traffic.\n";
  out += fmt::format("{}\n{}\n", kUdpNote, kHelperNote);
  for (const auto& w : plan.warnings) out += fmt::format("warning: {}\n", w);
  out += "\nReady rules: ftpsd firewall --format nftables|iptables|ufw|firewalld\n";
  return out;
}

// `ip saddr { ... }` / `ip6 saddr { ... }` prefixes, one per family present.
std::vector<std::string> nft_source_matches(const std::vector<std::string>& sources) {
  std::vector<std::string> v4;
  std::vector<std::string> v6;
  for (const auto& s : sources) (s.find(':') == std::string::npos ? v4 : v6).push_back(s);
  std::vector<std::string> out;
  if (!v4.empty()) out.push_back(fmt::format("ip saddr {{ {} }} ", fmt::join(v4, ", ")));
  if (!v6.empty()) out.push_back(fmt::format("ip6 saddr {{ {} }} ", fmt::join(v6, ", ")));
  if (out.empty()) out.emplace_back();
  return out;
}

std::string nft_router(const FirewallPlan& plan, const std::string& server) {
  std::string pre;
  std::string fwd;
  for (const auto& o : plan.openings) {
    if (!o.inbound) {
      fwd += fmt::format("    ip saddr {} tcp {}dport {} accept comment \"{}\"\n", server,
                         o.source_port ? fmt::format("sport {} tcp ", o.source_port) : "",
                         range_text(o.ports), o.what);
      continue;
    }
    // Connections to the router itself, or to the public address of the domain the range is for.
    const std::string to =
        o.destination.empty() ? "fib daddr type local " : fmt::format("ip daddr {} ", o.destination);
    for (const auto& src : nft_source_matches(o.sources)) {
      if (o.external) {
        std::string map;
        for (std::uint32_t i = 0; i < o.ports.size(); ++i)
          map += fmt::format("{}{} : {}", i ? ", " : "", o.external->first + i, o.ports.first + i);
        pre += fmt::format("    {}{}tcp dport {} dnat ip to {} : tcp dport map {{ {} }} comment \"{}\"\n", to,
                           src, range_text(*o.external), server, map, o.what);
      } else {
        pre += fmt::format("    {}{}tcp dport {} dnat ip to {} comment \"{}\"\n", to, src,
                           range_text(o.ports), server, o.what);
      }
      fwd += fmt::format("    {}ip daddr {} tcp dport {} ct status dnat accept comment \"{}\"\n", src, server,
                         range_text(o.ports), o.what);
    }
  }
  std::string out;
  out +=
      "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n" + pre + "  }\n";
  out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
  out += fmt::format("    ip saddr {} masquerade comment \"connections the server opens (active mode)\"\n",
                     server);
  out += "  }\n";
  out +=
      "  chain forward {\n    type filter hook forward priority filter; policy drop;\n"
      "    ct state established,related accept\n    ct state invalid drop\n" +
      fwd + "  }\n";
  return out;
}

std::string render_nftables(const FirewallPlan& plan, const FirewallOptions& options) {
  std::string out =
      "#!/usr/sbin/nft -f\n"
      "# ftpsd: generated by `ftpsd firewall --format nftables`. Load with `nft -f FILE`.\n"
      "# It drops every other inbound connection except SSH (port 22): add your other services.\n"
      "# UDP: nothing to open. Disable FTP helpers: they cannot read FTPS and are not needed.\n";
  if (!options.nat_to.empty())
    out += fmt::format("# Router rules: forwards the ports below to the server {}.\n", options.nat_to);
  out += "table inet ftpsd\ndelete table inet ftpsd\ntable inet ftpsd {\n";
  out +=
      "  chain input {\n    type filter hook input priority filter; policy drop;\n"
      "    ct state established,related accept\n    ct state invalid drop\n    iifname \"lo\" accept\n"
      "    meta l4proto { icmp, ipv6-icmp } accept\n    tcp dport 22 accept comment \"ssh: remove if "
      "unused\"\n";
  if (options.nat_to.empty()) {
    for (const auto& o : plan.openings) {
      if (!o.inbound) continue;
      for (const auto& src : nft_source_matches(o.sources))
        out += fmt::format("    {}tcp dport {} accept comment \"{}\"\n", src, range_text(o.ports), o.what);
    }
  }
  out += "  }\n";
  if (!options.nat_to.empty()) out += nft_router(plan, options.nat_to);
  out += "}\n";
  return out;
}

std::string render_iptables(const FirewallPlan& plan) {
  std::string out =
      "# ftpsd: generated by `ftpsd firewall --format iptables`. Run as root; use ip6tables for IPv6.\n"
      "# UDP: nothing to open. FTP helpers (nf_conntrack_ftp) are not needed: do not load them.\n"
      "iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
      "iptables -A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n";
  for (const auto& o : plan.openings) {
    if (!o.inbound) {
      out += fmt::format(
          "iptables -A OUTPUT -p tcp {}--dport {} -m conntrack --ctstate NEW -j ACCEPT  # {}\n",
          o.source_port ? fmt::format("--sport {} ", o.source_port) : "", range_text(o.ports, ':'), o.what);
      continue;
    }
    if (o.sources.empty())
      out += fmt::format("iptables -A INPUT -p tcp --dport {} -j ACCEPT  # {}\n", range_text(o.ports, ':'),
                         o.what);
    for (const auto& s : o.sources)
      out += fmt::format("{} -A INPUT -p tcp -s {} --dport {} -j ACCEPT  # {}\n",
                         s.find(':') == std::string::npos ? "iptables" : "ip6tables", s,
                         range_text(o.ports, ':'), o.what);
    if (o.external)
      out += fmt::format("# on the router: forward TCP {}{} to the server's {} (same order)\n",
                         range_text(*o.external), o.destination.empty() ? "" : " of " + o.destination,
                         range_text(o.ports));
  }
  return out;
}

std::string render_ufw(const FirewallPlan& plan) {
  std::string out = "# ftpsd: generated by `ftpsd firewall --format ufw`. UDP: nothing to open.\n";
  for (const auto& o : plan.openings) {
    if (!o.inbound) {
      out += fmt::format("ufw allow out proto tcp {}to any port {} comment 'ftpsd {}'\n",
                         o.source_port ? fmt::format("from any port {} ", o.source_port) : "",
                         range_text(o.ports, ':'), o.what);
      continue;
    }
    if (o.sources.empty())
      out += fmt::format("ufw allow proto tcp to any port {} comment 'ftpsd {}'\n", range_text(o.ports, ':'),
                         o.what);
    for (const auto& s : o.sources)
      out += fmt::format("ufw allow proto tcp from {} to any port {} comment 'ftpsd {}'\n", s,
                         range_text(o.ports, ':'), o.what);
  }
  return out;
}

std::string render_firewalld(const FirewallPlan& plan) {
  std::string out =
      "# ftpsd: generated by `ftpsd firewall --format firewalld`. UDP: nothing to open.\n"
      "# Do not add the \"ftp\" service: it loads the FTP helper, useless for FTPS.\n";
  for (const auto& o : plan.openings) {
    if (!o.inbound) continue;  // firewalld allows outbound connections by default
    if (o.sources.empty())
      out += fmt::format("firewall-cmd --permanent --add-port={}/tcp\n", range_text(o.ports));
    for (const auto& s : o.sources)
      out += fmt::format(
          "firewall-cmd --permanent --add-rich-rule='rule family=\"{}\" source address=\"{}\" port "
          "port=\"{}\" "
          "protocol=\"tcp\" accept'\n",
          s.find(':') == std::string::npos ? "ipv4" : "ipv6", s, range_text(o.ports));
  }
  out += "firewall-cmd --reload\n";
  return out;
}

}  // namespace

namespace {

// "passive data ports", "... of domain acme", "... of domains default, beta".
std::string passive_what(const config::Config& cfg, const std::vector<std::string>& names) {
  if (cfg.domains.empty()) return "passive data ports";
  return fmt::format("passive data ports of domain{} {}", names.size() == 1 ? "" : "s",
                     fmt::join(names, ", "));
}

// The public IPv4 a domain's own passive.address gives, when it differs from the default's: the router
// forwards that domain's range only for connections to it.
std::string own_destination(const config::Config& cfg, const config::DomainConfig& d) {
  if (d.passive.address == cfg.passive.address) return {};
  std::error_code ec;
  const auto a = asio::ip::make_address(d.passive.address, ec);
  if (ec || !a.is_v4() || !inet::is_public(a)) return {};
  return a.to_string();
}

// The openings of the `selected` domains: the listeners they are served on, their passive ranges.
FirewallPlan plan_of(const config::Config& cfg, const std::vector<const config::DomainConfig*>& selected) {
  FirewallPlan plan;
  auto served = [&](const config::ListenerConfig& l, std::string_view domain) {
    return l.domain.empty() || l.domain == domain;
  };
  auto selected_name = [&](std::string_view name) {
    return std::any_of(selected.begin(), selected.end(), [&](const auto* d) { return d->name == name; });
  };
  std::vector<std::size_t> listener_opening(cfg.listeners.size(), SIZE_MAX);
  for (std::size_t i = 0; i < cfg.listeners.size(); ++i) {
    const auto& l = cfg.listeners[i];
    if (!l.domain.empty() && !selected_name(l.domain)) continue;
    if (l.port == 0) {
      plan.warnings.push_back(
          fmt::format("listener {} uses port 0 (a random port): no rule can be written for it", l.address));
      continue;
    }
    Opening o{.what = std::string(control_name(l.tls)), .ports = {l.port, l.port}};
    if (l.proxy_protocol) {
      o.what += " via PROXY protocol";
      o.sources = network_texts(cfg.proxy_protocol.trusted);
    }
    if (!l.domain.empty()) o.what += " of domain " + l.domain;
    listener_opening[i] = plan.openings.size();
    plan.openings.push_back(std::move(o));
  }
  // The default's range, for the default and every selected domain without a range of its own.
  std::vector<std::string> sharing;
  for (const auto* d : selected)
    if (d->name == "default" || !d->own_ports) sharing.push_back(d->name);
  std::size_t shared_opening = SIZE_MAX;
  if (!sharing.empty()) {
    if (cfg.passive.ports) {
      shared_opening = plan.openings.size();
      std::string what = passive_what(cfg, sharing);
      if (!cfg.domains.empty() && std::find(sharing.begin(), sharing.end(), "default") == sharing.end())
        what += " (the default domain's range)";
      plan.openings.push_back(Opening{
          .what = std::move(what), .ports = *cfg.passive.ports, .external = cfg.passive.advertised_ports});
    } else {
      plan.warnings.emplace_back(
          "passive.ports is empty: the kernel picks any port for passive mode, so no firewall can be opened "
          "narrowly; set passive.ports, e.g. \"50000-50099\"");
    }
  }
  std::vector<std::size_t> own_opening(selected.size(), SIZE_MAX);
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const auto& d = *selected[i];
    if (d.name == "default" || !d.own_ports || !d.passive.ports) continue;
    own_opening[i] = plan.openings.size();
    plan.openings.push_back(Opening{.what = passive_what(cfg, {d.name}),
                                    .ports = *d.passive.ports,
                                    .external = d.passive.advertised_ports,
                                    .destination = own_destination(cfg, d)});
  }
  if (cfg.active.enabled) {
    plan.openings.push_back(Opening{.what = "active-mode data connections to clients",
                                    .ports = kClientPorts,
                                    .inbound = false,
                                    .source_port = cfg.active.source_port});
  }
  if (cfg.domains.empty()) return plan;
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const auto& d = *selected[i];
    DomainOpenings summary{.name = d.name, .hosts = d.hosts};
    for (std::size_t l = 0; l < cfg.listeners.size(); ++l)
      if (listener_opening[l] != SIZE_MAX && served(cfg.listeners[l], d.name))
        summary.control.push_back(listener_opening[l]);
    summary.shared_ports = d.name != "default" && !d.own_ports;
    const std::size_t passive = summary.shared_ports || d.name == "default" ? shared_opening : own_opening[i];
    if (passive != SIZE_MAX) summary.passive = passive;
    plan.domains.push_back(std::move(summary));
  }
  return plan;
}

}  // namespace

FirewallPlan plan_firewall(const config::Config& cfg) {
  const auto default_domain = cfg.default_domain();
  std::vector<const config::DomainConfig*> all{&default_domain};
  for (const auto& d : cfg.domains) all.push_back(&d);
  return plan_of(cfg, all);
}

Result<FirewallPlan, std::string> plan_firewall(const config::Config& cfg, std::string_view domain) {
  const auto default_domain = cfg.default_domain();
  std::vector<const config::DomainConfig*> all{&default_domain};
  for (const auto& d : cfg.domains) all.push_back(&d);
  for (const auto* d : all)
    if (d->name == domain) return plan_of(cfg, {d});
  std::vector<std::string> names;
  names.reserve(all.size());
  for (const auto* d : all) names.push_back(d->name);
  return Unexpected{fmt::format("no domain is named '{}' (the domains: {})", domain, fmt::join(names, ", "))};
}

std::string render_firewall(const FirewallPlan& plan, FirewallFormat format, const FirewallOptions& options) {
  switch (format) {
    case FirewallFormat::kText:
      return render_text(plan);
    case FirewallFormat::kNftables:
      return render_nftables(plan, options);
    case FirewallFormat::kIptables:
      return render_iptables(plan);
    case FirewallFormat::kUfw:
      return render_ufw(plan);
    case FirewallFormat::kFirewalld:
      return render_firewalld(plan);
  }
  return {};
}

std::optional<FirewallFormat> parse_firewall_format(std::string_view name) {
  if (name == "text") return FirewallFormat::kText;
  if (name == "nftables") return FirewallFormat::kNftables;
  if (name == "iptables") return FirewallFormat::kIptables;
  if (name == "ufw") return FirewallFormat::kUfw;
  if (name == "firewalld") return FirewallFormat::kFirewalld;
  return std::nullopt;
}

std::string_view control_name(config::TlsMode m) {
  switch (m) {
    case config::TlsMode::kExplicit:
      return "explicit FTPS control (AUTH TLS)";
    case config::TlsMode::kImplicit:
      return "implicit FTPS control";
    case config::TlsMode::kNone:
      break;
  }
  return "FTP control (clear text)";
}

}  // namespace ftpsd::tools
