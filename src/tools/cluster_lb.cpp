#include "tools/cluster_lb.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "config/names.hpp"
#include "runtime/asio.hpp"
#include "tools/firewall.hpp"

namespace ftpsd::tools {
namespace {

using nlohmann::json;

constexpr config::PortRange kClientPorts{1024, 65535};  // active mode: PORT/EPRT below 1024 are refused

std::string range_text(const config::PortRange& r) {
  if (r.first == r.last) return std::to_string(r.first);
  return fmt::format("{}-{}", r.first, r.last);
}

json range_json(const config::PortRange& r) {
  return json{{"first", r.first}, {"last", r.last}};
}

std::optional<config::PortRange> range_of(const json& j) {
  if (!j.is_object() || !j.contains("first") || !j.contains("last")) return std::nullopt;
  const auto& f = j.at("first");
  const auto& l = j.at("last");
  if (!f.is_number_unsigned() || !l.is_number_unsigned()) return std::nullopt;
  const auto first = f.get<std::uint64_t>();
  const auto last = l.get<std::uint64_t>();
  if (first == 0 || last > 65535 || first > last) return std::nullopt;
  return config::PortRange{static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
}

bool overlaps(const config::PortRange& a, const config::PortRange& b) {
  return a.first <= b.last && b.first <= a.last;
}

// HAProxy's names take letters, digits and - _ . : only; nftables' comments no double quote.
std::string haproxy_name(std::string_view s) {
  std::string out;
  for (const char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' ? c : '_';
  return out;
}

std::string comment_text(std::string_view s) {
  std::string out;
  for (const char c : s) out += c == '"' || c == '\\' || c == '\n' ? '_' : c;
  return out;
}

bool is_wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "*";
}

// Checks one node's plan; adds its servers, slices and findings to `out`.
void add_node(const ClusterNode& node, const NodePlan& p, const LbOptions& options, LbPlan& out) {
  bool usable = true;
  if (p.address.empty()) {
    out.errors.push_back(fmt::format(
        "node {} has no address: set [cluster] address = \"...\" in its configuration to the IP address "
        "the load balancer reaches it at, and restart it",
        node.name));
    usable = false;
  } else {
    std::error_code ec;
    const auto a = asio::ip::make_address(p.address, ec);
    if (ec || !a.is_v4()) {
      out.errors.push_back(fmt::format(
          "node {}: address {} is not an IPv4 address; the generated rules forward to IPv4 nodes only",
          node.name, p.address));
      usable = false;
    }
  }
  if (p.passive.empty()) {
    out.errors.push_back(fmt::format(
        "node {} has no passive range: set passive.ports in its configuration to its own slice (e.g. "
        "\"50000-50099\"), different from every other node's",
        node.name));
    usable = false;
  }
  std::vector<const NodeListener*> proxied;
  for (const auto& l : p.listeners) {
    if (!l.proxy_protocol) {
      out.warnings.push_back(fmt::format(
          "node {}: listener {}:{} has no proxy_protocol = true: left out of the load balancer (HAProxy "
          "sends the PROXY protocol header so that the node sees the client's address; without it the node "
          "would see the balancer as the client and refuse the client's data connections)",
          node.name, l.host, l.port));
      continue;
    }
    if (!is_wildcard(l.host) && l.host != p.address)
      out.warnings.push_back(
          fmt::format("node {}: listener {}:{} listens on {} only, but the load balancer reaches the node at "
                      "{}: listen on {} (or 0.0.0.0)",
                      node.name, l.host, l.port, l.host, p.address, p.address));
    proxied.push_back(&l);
  }
  if (proxied.empty()) {
    out.errors.push_back(fmt::format(
        "node {} has no listener with proxy_protocol = true: the load balancer cannot send it clients; set "
        "proxy_protocol = true on its [[listeners]] and the balancer's address in [proxy_protocol] trusted",
        node.name));
    usable = false;
  }
  if (node.down)
    out.warnings.push_back(fmt::format(
        "node {} is down (no heartbeat for {:.0f} s): it is in the plan; HAProxy's health check keeps "
        "clients away from it until it answers",
        node.name, node.heartbeat_age_seconds));
  if (p.passive_address.empty())
    out.warnings.push_back(fmt::format(
        "node {}: passive.address is not set: PASV replies give the address the node was reached at (its "
        "own, private one), not the balancer's; set passive.address = \"{}\"",
        node.name,
        options.public_address.empty() ? "<the balancer's public address>" : options.public_address));
  else if (!options.public_address.empty() && p.passive_address != options.public_address)
    out.warnings.push_back(fmt::format(
        "node {}: passive.address is {}, not the balancer's public address {}: PASV replies send clients "
        "there",
        node.name, p.passive_address, options.public_address));
  if (!usable) return;

  out.nodes.push_back(node.name);
  for (const auto* l : proxied) {
    const auto mapped = options.control_ports.find(l->port);
    const std::uint16_t port = mapped == options.control_ports.end() ? l->port : mapped->second;
    auto f = std::find_if(out.frontends.begin(), out.frontends.end(),
                          [&](const LbFrontend& x) { return x.port == port; });
    if (f == out.frontends.end()) {
      out.frontends.push_back(LbFrontend{.port = port, .tls = l->tls, .servers = {}});
      f = out.frontends.end() - 1;
    } else if (f->tls != l->tls) {
      out.errors.push_back(fmt::format(
          "public port {}: node {}'s listener {}:{} is {}, but {}'s is {}: one public port takes one kind of "
          "connection; give the listeners the same tls, or map them to other ports (--control-port)",
          port, node.name, l->host, l->port, config::name(l->tls), f->servers.front().node,
          config::name(f->tls)));
      continue;
    }
    if (std::any_of(f->servers.begin(), f->servers.end(),
                    [&](const LbServer& s) { return s.node == node.name; }))
      continue;  // two listeners of one node on one public port: the first one
    f->servers.push_back(LbServer{.node = node.name, .address = p.address, .port = l->port});
  }
  for (const auto& s : p.passive)
    out.forwards.push_back(LbForward{.node = node.name,
                                     .address = p.address,
                                     .domain = s.domain,
                                     .public_ports = s.public_ports(),
                                     .node_ports = s.ports});
  if (p.active) out.active.emplace_back(node.name, p.address);
}

void check_conflicts(LbPlan& out) {
  std::sort(out.frontends.begin(), out.frontends.end(),
            [](const auto& a, const auto& b) { return a.port < b.port; });
  std::sort(out.forwards.begin(), out.forwards.end(),
            [](const auto& a, const auto& b) { return a.public_ports.first < b.public_ports.first; });
  for (std::size_t i = 0; i + 1 < out.forwards.size(); ++i) {
    const auto& a = out.forwards[i];
    for (std::size_t j = i + 1; j < out.forwards.size(); ++j) {
      const auto& b = out.forwards[j];
      if (!overlaps(a.public_ports, b.public_ports) ||
          (a.node == b.node && a.node_ports.first == b.node_ports.first))
        continue;
      out.errors.push_back(fmt::format(
          "the public passive slices overlap: node {} has {}, node {} has {}: give each node its own "
          "passive.ports (or passive.advertised_ports) in its own configuration",
          a.node, range_text(a.public_ports), b.node, range_text(b.public_ports)));
    }
  }
  // A domain that shares the default's range appears once; the same range twice on a node is one slice.
  out.forwards.erase(std::unique(out.forwards.begin(), out.forwards.end(),
                                 [](const auto& a, const auto& b) {
                                   return a.node == b.node && a.public_ports.first == b.public_ports.first &&
                                          a.node_ports.first == b.node_ports.first;
                                 }),
                     out.forwards.end());
  for (const auto& f : out.forwards)
    for (const auto& fe : out.frontends)
      if (f.public_ports.contains(fe.port))
        out.errors.push_back(
            fmt::format("node {}'s public passive slice {} contains the public control port {}", f.node,
                        range_text(f.public_ports), fe.port));
  for (const auto& fe : out.frontends) {
    if (fe.servers.size() == out.nodes.size()) continue;
    std::vector<std::string> served;
    std::vector<std::string> missing;
    for (const auto& s : fe.servers) served.push_back(s.node);
    for (const auto& n : out.nodes)
      if (std::none_of(fe.servers.begin(), fe.servers.end(), [&](const LbServer& s) { return s.node == n; }))
        missing.push_back(n);
    out.warnings.push_back(fmt::format("public port {} ({}) goes to {} only: {} {} no such listener", fe.port,
                                       control_name(fe.tls), fmt::join(served, ", "),
                                       fmt::join(missing, ", "), missing.size() == 1 ? "has" : "have"));
  }
}

std::string public_match(const LbPlan& plan) {
  return plan.public_address.empty() ? "fib daddr type local "
                                     : fmt::format("ip daddr {} ", plan.public_address);
}

}  // namespace

NodePlan node_plan(const config::Config& cfg, const std::vector<config::ListenerConfig>& bound) {
  NodePlan p;
  if (cfg.cluster) p.address = cfg.cluster->address;
  for (const auto& l : bound)
    p.listeners.push_back(
        NodeListener{.host = l.host, .port = l.port, .tls = l.tls, .proxy_protocol = l.proxy_protocol});
  if (cfg.passive.ports)
    p.passive.push_back(PassiveSlice{
        .domain = "default", .ports = *cfg.passive.ports, .advertised = cfg.passive.advertised_ports});
  for (const auto& d : cfg.domains)
    if (d.own_ports && d.passive.ports)
      p.passive.push_back(PassiveSlice{
          .domain = d.name, .ports = *d.passive.ports, .advertised = d.passive.advertised_ports});
  p.passive_address = cfg.passive.address;
  p.active = cfg.active.enabled;
  return p;
}

std::string plan_json(const NodePlan& plan) {
  json listeners = json::array();
  for (const auto& l : plan.listeners)
    listeners.push_back(json{{"host", l.host},
                             {"port", l.port},
                             {"tls", config::name(l.tls)},
                             {"proxy_protocol", l.proxy_protocol}});
  json passive = json::array();
  for (const auto& s : plan.passive) {
    json slice{{"domain", s.domain}, {"ports", range_json(s.ports)}, {"advertised_ports", nullptr}};
    if (s.advertised) slice["advertised_ports"] = range_json(*s.advertised);
    passive.push_back(std::move(slice));
  }
  return json{{"version", kNodePlanVersion},
              {"address", plan.address},
              {"listeners", std::move(listeners)},
              {"passive", std::move(passive)},
              {"passive_address", plan.passive_address},
              {"active", plan.active}}
      .dump();
}

Result<NodePlan, std::string> parse_plan(std::string_view text) {
  const auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Unexpected{std::string("its plan is not a JSON object")};
  if (!j.contains("version"))
    return Unexpected{
        std::string("it published no plan (an ftpsd older than `firewall --cluster`): upgrade it")};
  if (!j.at("version").is_number_integer() || j.at("version").get<int>() != kNodePlanVersion)
    return Unexpected{fmt::format("its plan is version {}, this ftpsd reads version {}: upgrade this ftpsd",
                                  j.at("version").dump(), kNodePlanVersion)};
  NodePlan p;
  auto bad = [](std::string_view what) {
    return Unexpected{fmt::format("its plan has a malformed {}", what)};
  };
  if (!j.value("address", json()).is_string()) return bad("address");
  p.address = j.at("address").get<std::string>();
  if (!j.value("passive_address", json()).is_string()) return bad("passive_address");
  p.passive_address = j.at("passive_address").get<std::string>();
  if (!j.value("active", json()).is_boolean()) return bad("active");
  p.active = j.at("active").get<bool>();
  if (!j.value("listeners", json()).is_array()) return bad("listeners");
  for (const auto& l : j.at("listeners")) {
    if (!l.is_object() || !l.value("host", json()).is_string() ||
        !l.value("port", json()).is_number_unsigned() || !l.value("tls", json()).is_string() ||
        !l.value("proxy_protocol", json()).is_boolean())
      return bad("listener");
    const auto port = l.at("port").get<std::uint64_t>();
    const auto tls = config::from_name(config::kTlsModes, l.at("tls").get<std::string>());
    if (port == 0 || port > 65535 || !tls) return bad("listener");
    p.listeners.push_back(NodeListener{.host = l.at("host").get<std::string>(),
                                       .port = static_cast<std::uint16_t>(port),
                                       .tls = *tls,
                                       .proxy_protocol = l.at("proxy_protocol").get<bool>()});
  }
  if (!j.value("passive", json()).is_array()) return bad("passive");
  for (const auto& s : j.at("passive")) {
    if (!s.is_object() || !s.value("domain", json()).is_string()) return bad("passive slice");
    const auto ports = range_of(s.value("ports", json()));
    const auto& adv = s.value("advertised_ports", json());
    const auto advertised = adv.is_null() ? std::nullopt : range_of(adv);
    if (!ports || (!adv.is_null() && (!advertised || advertised->size() != ports->size())))
      return bad("passive slice");
    p.passive.push_back(
        PassiveSlice{.domain = s.at("domain").get<std::string>(), .ports = *ports, .advertised = advertised});
  }
  return p;
}

LbPlan plan_load_balancer(const std::vector<ClusterNode>& nodes, const LbOptions& options) {
  LbPlan out{.public_address = options.public_address};
  if (nodes.empty())
    out.errors.emplace_back(
        "no node is registered in the cluster database (or every node stopped): start the nodes first");
  for (const auto& n : nodes) {
    auto plan = parse_plan(n.plan_json);
    if (!plan) {
      out.errors.push_back(fmt::format("node {}: {}", n.name, plan.error()));
      continue;
    }
    add_node(n, *plan, options, out);
  }
  check_conflicts(out);
  return out;
}

std::string render_haproxy(const LbPlan& plan) {
  std::string out = fmt::format(
      "# ftpsd: generated by `ftpsd firewall --cluster --format haproxy` for the nodes {}.\n"
      "# HAProxy 2.6 (Debian 12): this is a whole configuration; use it as /etc/haproxy/haproxy.cfg (or add\n"
      "# its frontends and backends to yours), check it with `haproxy -c -f FILE`, then\n"
      "# `systemctl reload haproxy`. Each node's [proxy_protocol] trusted must hold this balancer's "
      "address.\n"
      "global\n"
      "    log /dev/log local0\n"
      "    maxconn 8000\n"
      "\n"
      "defaults\n"
      "    mode tcp\n"
      "    log global\n"
      "    option tcplog\n"
      "    timeout connect 5s\n"
      "    timeout check 5s\n"
      "    # A node that refuses a connection (killed, and not yet taken out by two failed checks):\n"
      "    # the connection is tried again on another node.\n"
      "    retries 3\n"
      "    option redispatch 1\n"
      "    # A control connection is silent while its transfer runs: longer than the longest transfer.\n"
      "    # ftpsd's own server.idle_timeout ends the sessions that are really idle.\n"
      "    timeout client 24h\n"
      "    timeout server 24h\n",
      fmt::join(plan.nodes, ", "));
  for (const auto& fe : plan.frontends) {
    const std::string name = fmt::format("ftpsd_{}", fe.port);
    const bool tls = fe.tls == config::TlsMode::kImplicit;
    out += fmt::format("\n# Public port {}: {}.\n", fe.port, control_name(fe.tls));
    out += fmt::format("frontend {}\n", name);
    out += fmt::format("    bind {}:{}\n", plan.public_address, fe.port);
    out += fmt::format("    default_backend {}\n", name);
    out += fmt::format("\nbackend {}\n", name);
    out += "    balance leastconn\n";
    out += fmt::format(
        "    # Healthy: the node answers {}with its 220 greeting (the check sends a PROXY header,\n"
        "    # LOCAL, as the listener expects one).\n",
        tls ? "a TLS handshake, then " : "");
    out += "    option tcp-check\n";
    out += "    tcp-check expect rstring ^220\n";
    out += "    tcp-check send QUIT\\r\\n\n";
    out += fmt::format("    default-server send-proxy-v2 check-send-proxy{} inter 1s fall 2 rise 1\n",
                       tls ? " check-ssl verify none" : "");
    for (const auto& s : fe.servers)
      out += fmt::format("    server {} {}:{} check\n", haproxy_name(s.node), s.address, s.port);
  }
  return out;
}

std::string render_lb_nftables(const LbPlan& plan) {
  std::string out = fmt::format(
      "#!/usr/sbin/nft -f\n"
      "# ftpsd: generated by `ftpsd firewall --cluster --format nftables` for the nodes {}.\n"
      "# The load balancer's rules: load with `nft -f FILE` (check with `nft -c -f FILE`). HAProxy takes "
      "the\n"
      "# control ports; each node's slice of the passive ports goes to that node (DNAT) with the client's\n"
      "# address kept: no masquerade, so the nodes' route to the clients must go back through this host.\n"
      "# It drops every other inbound connection except SSH (port 22): add your other services.\n"
      "table inet ftpsd_lb\ndelete table inet ftpsd_lb\ntable inet ftpsd_lb {{\n",
      fmt::join(plan.nodes, ", "));
  const std::string to = public_match(plan);
  out +=
      "  chain input {\n    type filter hook input priority filter; policy drop;\n"
      "    ct state established,related accept\n    ct state invalid drop\n    iifname \"lo\" accept\n"
      "    meta l4proto { icmp, ipv6-icmp } accept\n    tcp dport 22 accept comment \"ssh: remove if "
      "unused\"\n";
  for (const auto& fe : plan.frontends)
    out +=
        fmt::format("    {}tcp dport {} accept comment \"HAProxy: {}\"\n", to, fe.port, control_name(fe.tls));
  out += "  }\n";
  out += "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n";
  for (const auto& f : plan.forwards) {
    const std::string what = comment_text(fmt::format("node {}: passive data ports{}", f.node,
                                                      f.domain == "default" ? "" : " of domain " + f.domain));
    if (f.public_ports.first == f.node_ports.first) {
      out += fmt::format("    {}tcp dport {} dnat ip to {} comment \"{}\"\n", to, range_text(f.public_ports),
                         f.address, what);
      continue;
    }
    // One element per port: public port -> the node's port, one to one.
    std::string map;
    for (std::uint32_t i = 0; i < f.node_ports.size(); ++i)
      map += fmt::format("{}{} : {}", i ? ", " : "", f.public_ports.first + i, f.node_ports.first + i);
    out += fmt::format("    {}tcp dport {} dnat ip to {} : tcp dport map {{ {} }} comment \"{}\"\n", to,
                       range_text(f.public_ports), f.address, map, what);
  }
  out += "  }\n";
  out +=
      "  chain forward {\n    type filter hook forward priority filter; policy drop;\n"
      "    ct state established,related accept\n    ct state invalid drop\n";
  for (const auto& f : plan.forwards)
    out += fmt::format("    ip daddr {} tcp dport {} ct status dnat accept comment \"{}\"\n", f.address,
                       range_text(f.node_ports), comment_text(fmt::format("node {}: passive data", f.node)));
  for (const auto& [name, address] : plan.active)
    out +=
        fmt::format("    ip saddr {} tcp dport {} accept comment \"{}\"\n", address, range_text(kClientPorts),
                    comment_text(fmt::format("node {}: active-mode data connections to clients", name)));
  out += "  }\n";
  if (!plan.active.empty()) {
    std::set<std::string> addresses;
    for (const auto& a : plan.active) addresses.insert(a.second);
    out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
    out += fmt::format(
        "    ip saddr {{ {} }} ct status != dnat masquerade comment \"connections the nodes open (active "
        "mode); "
        "never the clients' connections\"\n",
        fmt::join(addresses, ", "));
    out += "  }\n";
  }
  out += "}\n";
  return out;
}

std::string render_lb_text(const LbPlan& plan) {
  std::string out =
      fmt::format("The load balancer in front of the ftpsd cluster ({} node{}: {}), TCP only:\n\n",
                  plan.nodes.size(), plan.nodes.size() == 1 ? "" : "s", fmt::join(plan.nodes, ", "));
  auto row = [&](std::string_view on, std::string_view dir, const std::string& ports,
                 const std::string& what) {
    out += fmt::format("  {:<10} {:<9} {:<5} {:<22} {}\n", on, dir, "TCP", ports, what);
  };
  row("on", "direction", "port(s)", "what");
  for (const auto& fe : plan.frontends) {
    std::vector<std::string> to;
    for (const auto& s : fe.servers) to.push_back(fmt::format("{} {}:{}", s.node, s.address, s.port));
    row("balancer", "inbound", std::to_string(fe.port),
        fmt::format("{}: HAProxy, to {}", control_name(fe.tls), fmt::join(to, ", ")));
  }
  for (const auto& f : plan.forwards)
    row("balancer", "inbound", range_text(f.public_ports),
        fmt::format("passive data ports of node {}{}: forwarded (DNAT) to {}{}", f.node,
                    f.domain == "default" ? "" : ", domain " + f.domain, f.address,
                    f.public_ports.first == f.node_ports.first ? "" : " ports " + range_text(f.node_ports)));
  for (const auto& n : plan.nodes) {
    for (const auto& fe : plan.frontends)
      for (const auto& s : fe.servers)
        if (s.node == n)
          row(n, "inbound", std::to_string(s.port), "control, from the balancer only (PROXY protocol)");
    for (const auto& f : plan.forwards)
      if (f.node == n)
        row(n, "inbound", range_text(f.node_ports), "passive data, from the clients (their own addresses)");
    for (const auto& a : plan.active)
      if (a.first == n)
        row(n, "outbound", "any -> " + range_text(kClientPorts), "active-mode data connections to clients");
  }
  out +=
      "\nThe balancer forwards the passive ports without masquerading: each node sees the client's own\n"
      "address (the check that a data connection comes from the control connection's client stays on), and\n"
      "its route to the clients must go back through the balancer (its default gateway).\n"
      "Each node: passive.address = the balancer's public address; proxy_protocol = true on its listeners\n"
      "and the balancer's address in [proxy_protocol] trusted.\n"
      "Replies of established connections pass the other way: allow \"established,related\" traffic.\n"
      "UDP: nothing; FTP and FTPS use TCP only. Disable FTP helpers (nf_conntrack_ftp): useless for FTPS.\n";
  for (const auto& w : plan.warnings) out += fmt::format("warning: {}\n", w);
  out += "\nReady files: ftpsd firewall --cluster --format haproxy|nftables\n";
  return out;
}

std::string render_lb_all(const LbPlan& plan) {
  return render_lb_text(plan) +
         "\n# ==== HAProxy: /etc/haproxy/haproxy.cfg on the balancer (`--format haproxy` prints this part "
         "alone)\n" +
         render_haproxy(plan) +
         "\n# ==== nftables: the balancer's ruleset, `nft -f FILE` (`--format nftables` prints this part "
         "alone)\n" +
         render_lb_nftables(plan);
}

std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_control_port(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s) -> std::optional<std::uint16_t> {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(v);
  };
  const auto from = number(text.substr(0, eq));
  const auto to = number(text.substr(eq + 1));
  if (!from || !to) return std::nullopt;
  return std::pair{*from, *to};
}

}  // namespace ftpsd::tools
