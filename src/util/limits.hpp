#pragma once
// Every hard limit of the server, each with its reason.
#include <cstddef>

namespace ftpsd::limits {
inline constexpr std::size_t kMaxCommandLine = 4096;  // RFC 959 sets none; an unbounded line is a DoS
inline constexpr std::size_t kMaxPath = 4096;         // PATH_MAX; longer paths are refused with 501
inline constexpr std::size_t kMaxUserName = 128;
inline constexpr std::size_t kMaxListingEntries = 1'000'000;  // one LIST/MLSD never holds more in memory
// The kernel's send buffer of a control connection (SO_SNDBUF; Linux doubles it). Replies are small.
// Left to autotuning it grows to net.ipv4.tcp_wmem's maximum (4 MiB by default): a client that sends
// commands and reads no reply then gets hundreds of thousands of replies accepted before a write waits
// and server.data_timeout starts to run (tens of seconds of work on a slow machine), and pins those
// megabytes in the kernel, for each such session.
inline constexpr std::size_t kControlSendBuffer = 64 * 1024;
// The start-up clean-up of stale upload temporaries looks at no more entries per user root: a huge
// tree must not keep a worker busy for hours (what is left is cleaned at the next start).
inline constexpr std::size_t kMaxStaleScanEntries = 2'000'000;
}  // namespace ftpsd::limits
