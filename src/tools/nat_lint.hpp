#pragma once
// The NAT and firewall checks of `ftpsd check-config` (also logged at start): what the loader cannot
// call wrong on its own, but that breaks clients behind or in front of NAT. Pure apart from the
// injected resolver.
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "runtime/asio.hpp"
#include "util/result.hpp"

namespace ftpsd::tools {

struct LintFinding {
  enum class Severity : std::uint8_t { kWarning, kError };
  Severity severity;
  std::string key;      // "passive.address"
  std::string message;  // what is wrong, then what to do
};

using Resolver = std::function<Result<asio::ip::address_v4, std::string>(const std::string&)>;

[[nodiscard]] std::vector<LintFinding> lint_nat(const config::Config& cfg, const Resolver& resolve);

}  // namespace ftpsd::tools
