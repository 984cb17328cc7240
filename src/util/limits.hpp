#pragma once
// Every hard limit of the server, each with its reason.
#include <cstddef>

namespace ftpsd::limits {
inline constexpr std::size_t kMaxCommandLine = 4096;  // RFC 959 sets none; an unbounded line is a DoS
inline constexpr std::size_t kMaxPath = 4096;         // PATH_MAX; longer paths are refused with 501
inline constexpr std::size_t kMaxUserName = 128;
inline constexpr std::size_t kMaxListingEntries = 1'000'000;  // one LIST/MLSD never holds more in memory
inline constexpr std::size_t kMaxStatLines = 10'000;          // STAT <path> over the control connection
}  // namespace ftpsd::limits
