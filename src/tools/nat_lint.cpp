#include "tools/nat_lint.hpp"

#include <fmt/format.h>

#include "inet/ip_network.hpp"

namespace ftpsd::tools {
namespace {

using Severity = LintFinding::Severity;

bool overlaps(const config::PortRange& r, std::uint16_t port) {
  return port != 0 && r.contains(port);
}

void check_ranges(const config::Config& cfg, std::vector<LintFinding>& out) {
  const auto& p = cfg.passive;
  if (!p.ports) {
    out.push_back(
        {Severity::kWarning, "passive.ports",
         "empty: passive ports are any port the kernel gives, which no firewall or router can forward; "
         "set a range such as \"50000-50099\" and open it (`ftpsd firewall`)"});
    return;
  }
  for (const auto& l : cfg.listeners) {
    if (overlaps(*p.ports, l.port))
      out.push_back({Severity::kError, "passive.ports",
                     fmt::format("{}-{} contains the listener port {} ({}): move the range", p.ports->first,
                                 p.ports->last, l.port, l.address)});
    if (p.advertised_ports && overlaps(*p.advertised_ports, l.port))
      out.push_back({Severity::kError, "passive.advertised_ports",
                     fmt::format("{}-{} contains the listener port {}: the router cannot forward both",
                                 p.advertised_ports->first, p.advertised_ports->last, l.port)});
  }
  if (p.ports->size() < cfg.server.max_sessions)
    out.push_back(
        {Severity::kWarning, "passive.ports",
         fmt::format("{} ports for server.max_sessions = {}: at most {} sessions can use passive mode at "
                     "once (the others get 425); widen the range (and the firewall with it) or lower "
                     "server.max_sessions",
                     p.ports->size(), cfg.server.max_sessions, p.ports->size())});
}

void check_address(const config::Config& cfg, const Resolver& resolve, LintStage stage,
                   std::vector<LintFinding>& out) {
  const auto& p = cfg.passive;
  if (p.address.empty()) {
    bool private_listener = false;
    for (const auto& l : cfg.listeners) {
      std::error_code ec;
      const auto a = asio::ip::make_address(l.host, ec);
      if (!ec && (a.is_unspecified() || inet::classify(a) == inet::AddressClass::kPrivate))
        private_listener = true;
    }
    if (private_listener)
      out.push_back(
          {Severity::kWarning, "passive.address",
           "empty: PASV replies carry the address the client connected to. That is right without NAT; "
           "behind a NAT router, internet clients get an address they cannot reach: set "
           "passive.address to the public IP or host name"});
    return;
  }
  std::error_code ec;
  auto address = asio::ip::make_address(p.address, ec);
  if (ec) {
    auto r = resolve(p.address);
    if (!r) {
      const bool starting = stage == LintStage::kStart;
      out.push_back(
          {starting ? Severity::kError : Severity::kWarning, "passive.address",
           fmt::format("the host name {} does not resolve{} ({}): PASV replies carry the local address "
                       "until it does (it is looked up again every passive.resolve_every); use an IP "
                       "address or a name with an A record{}",
                       p.address, starting ? "" : " here now", r.error(),
                       starting ? "" : " where ftpsd runs")});
      return;
    }
    address = *r;
  }
  const auto cls = inet::classify(address);
  if (cls != inet::AddressClass::kPublic && p.address_overrides.empty())
    out.push_back(
        {Severity::kWarning, "passive.address",
         fmt::format("{} is a {} address{}: only clients that can reach it directly can use passive "
                     "mode. For internet clients set the public address; for LAN and internet clients, "
                     "the public address plus [[passive.address_overrides]] for the LAN",
                     p.address, inet::describe(cls),
                     ec ? fmt::format(" (it resolves to {})", address.to_string()) : "")});
}

void check_proxy(const config::Config& cfg, std::vector<LintFinding>& out) {
  for (const auto& n : cfg.proxy_protocol.trusted) {
    if (n.prefix() < (n.is_v4() ? 8u : 16u))
      out.push_back(
          {Severity::kWarning, "proxy_protocol.trusted",
           fmt::format("{} trusts nearly everyone: any host in it can claim any client address; list "
                       "only the load balancers",
                       n.to_string())});
  }
  bool any = false;
  for (const auto& l : cfg.listeners) any = any || l.proxy_protocol;
  if (!any && !cfg.proxy_protocol.trusted.empty())
    out.push_back({Severity::kWarning, "proxy_protocol.trusted",
                   "set, but no listener has proxy_protocol = true: it has no effect"});
}

// The passive settings a [[domains]] entry has of its own, checked in its view of the configuration;
// what it inherits was checked at the top level. Each finding names the domain and its key.
void check_domains(const config::Config& cfg, const Resolver& resolve, LintStage stage,
                   std::vector<LintFinding>& out) {
  for (std::size_t i = 0; i < cfg.domains.size(); ++i) {
    const auto& d = cfg.domains[i];
    const auto view = cfg.for_domain(d);
    std::vector<LintFinding> mine;
    if (d.own_ports) check_ranges(view, mine);
    if (d.passive.address != cfg.passive.address ||
        d.passive.address_overrides.size() != cfg.passive.address_overrides.size())
      check_address(view, resolve, stage, mine);
    for (auto& f : mine) {
      f.key = fmt::format("domains[{}].{}", i, f.key);
      f.message = fmt::format("domain {}: {}", d.name, f.message);
      out.push_back(std::move(f));
    }
  }
}

}  // namespace

std::vector<LintFinding> lint_nat(const config::Config& cfg, const Resolver& resolve, LintStage stage) {
  std::vector<LintFinding> out;
  check_ranges(cfg, out);
  check_address(cfg, resolve, stage, out);
  check_domains(cfg, resolve, stage, out);
  check_proxy(cfg, out);
  if (cfg.active.enabled && cfg.active.source_port != 0 && cfg.active.source_port < 1024)
    out.push_back({Severity::kWarning, "active.source_port",
                   fmt::format("{} is a privileged port: ftpsd needs root or CAP_NET_BIND_SERVICE to use it",
                               cfg.active.source_port)});
  for (auto& f : out) f.line = cfg.lines.of(f.key);
  return out;
}

std::string location(const config::Config& cfg, const LintFinding& finding) {
  if (finding.line == 0) return cfg.source.string();
  return fmt::format("{}:{}", cfg.source.string(), finding.line);
}

}  // namespace ftpsd::tools
