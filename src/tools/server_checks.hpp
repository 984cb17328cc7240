#pragma once
// The checks of a domain that the server can make from its own side (the Manager's POST
// /domains/{domain}/check): its listeners bound, its passive ports bindable now, its passive address
// resolving to a public address, and the NAT lint of its settings. Each with a verdict and a fix in
// the words of `ftpsd doctor`. Blocking (binds test sockets, resolves a host name).
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "tools/nat_lint.hpp"

namespace ftpsd::tools {

struct ServerCheck {
  enum class Verdict : std::uint8_t { kOk, kWarning, kError };
  std::string check;  // "listener 127.0.0.1:2121", "passive ports", "passive address", "NAT lint"
  Verdict verdict = Verdict::kOk;
  std::string detail;  // what was seen
  std::string fix;     // what to do; empty when nothing
};

[[nodiscard]] std::string_view name(ServerCheck::Verdict v) noexcept;

// `running`: the running configuration (listeners with their bound ports); `domain`: its view of it
// (config::Config::for_domain; the whole configuration for "default"), `domain_name` its name.
// `ours(port)`: whether the server's own port pool holds the port (a session listens there).
struct DomainCheckInput {
  const config::Config& running;
  const config::Config& domain;
  std::string domain_name;
  std::function<bool(std::uint16_t)> ours;
  Resolver resolve;
};
[[nodiscard]] std::vector<ServerCheck> check_domain(const DomainCheckInput& in);

}  // namespace ftpsd::tools
