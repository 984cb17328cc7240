#pragma once
// Everything `ftpsd check-config` checks, in one place. `ftpsd check-config`, `ftpsd reload`, `ftpsd
// config set|unset|restore` and the Manager's changes check a configuration with it before they use it.
// Blocking: reads the users, admins, certificate and key files, and resolves passive host names.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "sys/privileges.hpp"
#include "tools/nat_lint.hpp"
#include "util/result.hpp"

namespace ftpsd::tools {

// server.user / server.group looked up (nullopt without server.user); the error names the key.
[[nodiscard]] Result<std::optional<sys::Identity>, std::string> service_identity(
    const config::Config& config);

struct CheckedConfig {
  config::Config config;
  std::vector<LintFinding> warnings;  // the NAT lint's findings (none of them an error)
};

struct ConfigRefusal {
  std::string message;  // why, naming the file (and its line and key) at fault
  std::string key;      // the configuration key at fault ("domains[1].passive.ports"); empty: none
  // The NAT lint refused: every finding it made, errors and warnings, in its order (message and key
  // are then those of the first error, message without the file and line).
  std::vector<LintFinding> findings;
  // What check-config prints: `message` alone, or every finding described (describe()).
  std::vector<std::string> report;
};

// `text` as the configuration file `file` would hold it (relative paths are resolved from its folder).
// In order: the loader; every users file (the top level's and each domain's); the admins file when
// [admin] is on; the certificates and keys the listeners serve (config::Config::served_tls: every
// domain's own too); server.user and server.group; the NAT lint (LintStage::kCheck).
[[nodiscard]] Result<CheckedConfig, ConfigRefusal> check_config(std::string_view text,
                                                                const std::filesystem::path& file);
// The same for the file as it is now; an empty `file`: the embedded default.
[[nodiscard]] Result<CheckedConfig, ConfigRefusal> check_config_file(const std::filesystem::path& file);

// A finding as check-config prints it: "FILE:LINE: warning: KEY: text".
[[nodiscard]] std::string describe(const config::Config& cfg, const LintFinding& finding);

}  // namespace ftpsd::tools
