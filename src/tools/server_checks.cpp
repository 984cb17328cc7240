#include "tools/server_checks.hpp"

#include <fmt/format.h>

#include <set>

#include "inet/ip_network.hpp"
#include "runtime/asio.hpp"

namespace ftpsd::tools {
namespace {

using Verdict = ServerCheck::Verdict;
using asio::ip::tcp;

bool serves(const config::ListenerConfig& l, std::string_view domain) {
  return l.domain.empty() || l.domain == domain;
}

// Binding the listener's own address fails with EADDRINUSE when the server listens there.
ServerCheck check_listener(const config::ListenerConfig& l) {
  ServerCheck out{.check = "listener " + l.address, .verdict = Verdict::kOk, .detail = {}, .fix = {}};
  asio::io_context io;
  tcp::acceptor probe(io);
  std::error_code ec;
  const auto address = asio::ip::make_address(l.host, ec);
  if (!ec) probe.open(tcp::endpoint(address, l.port).protocol(), ec);
  if (!ec) probe.bind(tcp::endpoint(address, l.port), ec);
  if (ec == asio::error::address_in_use) {
    out.detail = fmt::format("listening ({} control connections)",
                             l.tls == config::TlsMode::kImplicit   ? "implicit FTPS"
                             : l.tls == config::TlsMode::kExplicit ? "explicit FTPS"
                                                                   : "clear FTP");
    return out;
  }
  out.verdict = Verdict::kError;
  out.detail = ec ? fmt::format("cannot tell: {}", ec.message()) : "nothing listens there";
  out.fix = "see the server's log for why the listener is not there; listeners change only at a restart";
  return out;
}

// Each port of the range bound as a passive data listener binds it (SO_REUSEADDR, on the listeners'
// addresses): the ports the server's own sessions hold are in use by right; others are not.
ServerCheck check_ports(const DomainCheckInput& in) {
  ServerCheck out{.check = "passive ports", .verdict = Verdict::kOk, .detail = {}, .fix = {}};
  const auto& range = in.domain.passive.ports;
  if (!range) {
    out.verdict = Verdict::kWarning;
    out.detail = "passive.ports is empty: passive ports are any port the kernel gives";
    out.fix =
        "set a range such as \"50000-50099\", and forward (router) and open (firewall) it; `ftpsd "
        "firewall` lists it";
    return out;
  }
  std::set<std::string> hosts;
  for (const auto& l : in.running.listeners)
    if (serves(l, in.domain_name)) hosts.insert(l.host);
  asio::io_context io;
  std::size_t free = 0;
  std::size_t held = 0;
  std::vector<std::uint16_t> foreign;
  for (std::uint32_t p = range->first; p <= range->last; ++p) {
    const auto port = static_cast<std::uint16_t>(p);
    if (in.ours && in.ours(port)) {
      ++held;
      continue;
    }
    bool bindable = true;
    for (const auto& host : hosts) {
      std::error_code ec;
      const auto address = asio::ip::make_address(host, ec);
      tcp::acceptor probe(io);
      if (!ec) probe.open(tcp::endpoint(address, port).protocol(), ec);
      if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) probe.bind(tcp::endpoint(address, port), ec);
      bindable = bindable && !ec;
    }
    if (bindable) {
      ++free;
    } else {
      foreign.push_back(port);
    }
  }
  out.detail = fmt::format("{}-{}: {} free, {} in use by sessions", range->first, range->last, free, held);
  if (foreign.empty()) return out;
  std::string list;
  for (std::size_t i = 0; i < foreign.size() && i < 10; ++i)
    list += fmt::format("{}{}", i ? ", " : "", foreign[i]);
  if (foreign.size() > 10) list += ", ...";
  out.verdict = free + held == 0 ? Verdict::kError : Verdict::kWarning;
  out.detail += fmt::format(", {} used by another program ({})", foreign.size(), list);
  out.fix = "check `ss -ltn` for listeners inside passive.ports and move the range";
  return out;
}

ServerCheck check_address(const DomainCheckInput& in) {
  ServerCheck out{.check = "passive address", .verdict = Verdict::kOk, .detail = {}, .fix = {}};
  const auto& p = in.domain.passive;
  if (p.address.empty()) {
    out.verdict = Verdict::kWarning;
    out.detail = "passive.address is empty: PASV replies carry the address the client connected to";
    out.fix = "right without NAT; behind a NAT router set passive.address to the public IP or host name";
    return out;
  }
  std::error_code ec;
  auto address = asio::ip::make_address(p.address, ec);
  std::string resolved;
  if (ec) {
    auto r = in.resolve(p.address);
    if (!r) {
      out.verdict = Verdict::kError;
      out.detail = fmt::format(
          "the host name {} does not resolve ({}): PASV replies carry the local address "
          "until it does",
          p.address, r.error());
      out.fix = "use an IP address, or a name with an A record where ftpsd runs";
      return out;
    }
    address = *r;
    resolved = fmt::format(" (it resolves to {})", address.to_string());
  }
  const auto cls = inet::classify(address);
  if (cls == inet::AddressClass::kPublic) {
    out.detail = fmt::format("{}{}: a public address", p.address, resolved);
    return out;
  }
  out.verdict = Verdict::kWarning;
  out.detail =
      fmt::format("{}{} is a {} address: only clients that can reach it directly can use passive mode",
                  p.address, resolved, inet::describe(cls));
  out.fix = p.address_overrides.empty()
                ? "for internet clients set passive.address to the public address; for LAN and internet "
                  "clients, the public address plus address overrides for the LAN"
                : "";
  return out;
}

// The NAT lint's findings about this domain's settings: the default's keys, or domains[i]'s.
void lint(const DomainCheckInput& in, std::vector<ServerCheck>& out) {
  std::string prefix;
  for (std::size_t i = 0; i < in.running.domains.size(); ++i)
    if (in.running.domains[i].name == in.domain_name) prefix = fmt::format("domains[{}].", i);
  std::size_t found = 0;
  for (const auto& f : lint_nat(in.running, in.resolve, LintStage::kCheck)) {
    const bool domain_key = f.key.starts_with("domains[");
    if (prefix.empty() ? domain_key : !f.key.starts_with(prefix)) continue;
    ++found;
    out.push_back(
        {.check = "NAT lint: " + f.key,
         .verdict = f.severity == LintFinding::Severity::kError ? Verdict::kError : Verdict::kWarning,
         .detail = f.message,
         .fix = {}});
  }
  if (found == 0)
    out.push_back({.check = "NAT lint", .verdict = Verdict::kOk, .detail = "no findings", .fix = {}});
}

}  // namespace

std::string_view name(ServerCheck::Verdict v) noexcept {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kWarning:
      return "warning";
    case Verdict::kError:
      return "error";
  }
  return "error";
}

std::vector<ServerCheck> check_domain(const DomainCheckInput& in) {
  std::vector<ServerCheck> out;
  for (const auto& l : in.running.listeners)
    if (serves(l, in.domain_name)) out.push_back(check_listener(l));
  out.push_back(check_ports(in));
  out.push_back(check_address(in));
  lint(in, out);
  return out;
}

}  // namespace ftpsd::tools
