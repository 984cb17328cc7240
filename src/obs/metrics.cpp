#include "obs/metrics.hpp"

#include <algorithm>

namespace ftpsd::obs {

void DurationHistogram::observe(std::chrono::steady_clock::duration d) noexcept {
  const double secs = std::chrono::duration<double>(d).count();
  const auto it = std::lower_bound(kBounds.begin(), kBounds.end(), secs);
  counts_[static_cast<std::size_t>(it - kBounds.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()),
      std::memory_order_relaxed);
}

void Metrics::transfer(Direction d, bool complete, std::uint64_t bytes,
                       std::chrono::steady_clock::duration took) noexcept {
  const auto i = static_cast<std::size_t>(d);
  count(complete ? transfers_complete[i] : transfers_incomplete[i]);
  transfer_bytes[i].fetch_add(bytes, std::memory_order_relaxed);
  transfer_seconds[i].observe(took);
}

Metrics& metrics() noexcept {
  static Metrics instance;
  return instance;
}

}  // namespace ftpsd::obs
