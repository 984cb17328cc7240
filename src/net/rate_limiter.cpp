#include "net/rate_limiter.hpp"

#include <algorithm>

namespace ftpsd::net {

RateLimiter::Clock::duration RateLimiter::reserve(std::uint64_t bytes, std::uint64_t rate,
                                                  Clock::time_point now) {
  if (rate == 0 || bytes == 0) return Clock::duration::zero();
  const auto cost = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(rate)));
  const std::lock_guard lock(mutex_);
  next_ = std::max(next_, now - kBurst) + cost;
  return next_ > now ? next_ - now : Clock::duration::zero();
}

}  // namespace ftpsd::net
