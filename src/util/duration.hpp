#pragma once
// Durations as written in the configuration: "30s", "5m", "1h", "250ms", or a bare number of seconds.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ftpsd {

using Duration = std::chrono::milliseconds;

[[nodiscard]] std::optional<Duration> parse_duration(std::string_view text);
[[nodiscard]] std::string format_duration(Duration d);

}  // namespace ftpsd
