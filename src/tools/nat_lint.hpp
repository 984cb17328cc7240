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
  std::string key;         // "passive.address"
  std::string message;     // what is wrong, then what to do
  std::uint32_t line = 0;  // where `key` (or its table) is in the file; 0: not written there
};

using Resolver = std::function<Result<asio::ip::address_v4, std::string>(const std::string&)>;

// kCheck: `ftpsd check-config`, maybe on another machine or before the DNS record exists, so a host
// name that does not resolve is a warning. kStart: the server starting, where it is an error (it
// starts anyway and PASV replies carry the local address until the name resolves).
enum class LintStage : std::uint8_t { kCheck, kStart };

[[nodiscard]] std::vector<LintFinding> lint_nat(const config::Config& cfg, const Resolver& resolve,
                                                LintStage stage);

// Where a finding points: "ftpsd.toml:18", or "ftpsd.toml" for a key whose table is not in the file.
[[nodiscard]] std::string location(const config::Config& cfg, const LintFinding& finding);

}  // namespace ftpsd::tools
