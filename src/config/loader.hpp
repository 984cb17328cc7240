#pragma once
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ftpsd::config {

// "FILE:LINE: key 'server.idle_timeout': expected a duration such as \"30s\" or \"5m\"".
struct ConfigError {
  explicit ConfigError(std::string m, std::string k = {}) : message(std::move(m)), key(std::move(k)) {}
  std::string message;
  std::string key;  // the key at fault ("passive.ports", "domains[1].passive.address"); empty: none
};

// All or nothing: unknown keys, wrong types and cross-field violations are errors. Relative paths
// are resolved against the directory of the file (./run for the embedded default).
[[nodiscard]] Result<Config, ConfigError> load_file(const std::filesystem::path& file);
// The embedded default (embedded_default()); an empty `file` means it wherever a file is optional.
[[nodiscard]] Result<Config, ConfigError> load_embedded_default();
[[nodiscard]] Result<Config, ConfigError> load_file_or_default(const std::filesystem::path& file);
[[nodiscard]] Result<Config, ConfigError> load_string(std::string_view text,
                                                      const std::filesystem::path& name,
                                                      const std::filesystem::path& base_dir);

// Parses "50000-50099" (or a single port). Empty: nullopt. Errors: a message.
[[nodiscard]] Result<std::optional<PortRange>, std::string> parse_port_range(std::string_view text);
// Parses a rate in bytes per second: "1048576", "500k", "10M", "1G" (k = 1024). nullopt: not a rate.
[[nodiscard]] std::optional<std::uint64_t> parse_rate(std::string_view text);
// Parses "127.0.0.1:2121" or "[::1]:2121" into host and port.
[[nodiscard]] Result<std::pair<std::string, std::uint16_t>, std::string> parse_listen_address(
    std::string_view text);

}  // namespace ftpsd::config
