#include "util/duration.hpp"

#include <charconv>
#include <cstdint>

namespace ftpsd {

std::optional<Duration> parse_duration(std::string_view text) {
  std::uint64_t n = 0;
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc{} || p == text.data()) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  constexpr std::uint64_t kMaxSeconds = 365ull * 24 * 3600;
  std::uint64_t ms = 0;
  if (unit == "ms") {
    ms = n;
  } else if (unit.empty() || unit == "s") {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else {
    return std::nullopt;
  }
  if (n > kMaxSeconds * 1000) return std::nullopt;
  return Duration(static_cast<Duration::rep>(ms));
}

std::string format_duration(Duration d) {
  const auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace ftpsd
