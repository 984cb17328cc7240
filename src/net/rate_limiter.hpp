#pragma once
// A token bucket for bandwidth limits ([limits] download_rate/upload_rate, and per user). Bytes are
// reserved before they move; the answer is how long to wait first (never blocks: the caller waits on
// a timer). An idle bucket keeps at most kBurst worth of credit. Thread-safe: the global buckets are
// shared by every session on every event loop.
#include <chrono>
#include <cstdint>
#include <mutex>

namespace ftpsd::net {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kBurst = std::chrono::milliseconds(100);

  // Takes `bytes` at `rate` bytes per second (0: unlimited, no wait); returns the wait before they
  // may move.
  [[nodiscard]] Clock::duration reserve(std::uint64_t bytes, std::uint64_t rate, Clock::time_point now);

 private:
  std::mutex mutex_;
  Clock::time_point next_{};  // when the bytes reserved so far have all gone at the rate
};

}  // namespace ftpsd::net
