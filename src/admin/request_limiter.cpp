#include "admin/request_limiter.hpp"

#include <algorithm>

namespace ftpsd::admin {

void RequestLimiter::refill(Bucket& b, Clock::time_point now) const {
  const std::chrono::duration<double> elapsed = now - b.updated;
  if (elapsed.count() > 0) {
    b.tokens = std::min(static_cast<double>(burst_), b.tokens + elapsed.count() * static_cast<double>(rate_));
    b.updated = now;
  }
}

void RequestLimiter::make_room(Clock::time_point now) {
  for (auto& [address, bucket] : buckets_) refill(bucket, now);
  std::erase_if(buckets_, [this](const auto& kv) { return kv.second.tokens >= static_cast<double>(burst_); });
  if (buckets_.size() < kMaxAddresses) return;
  // Every address is busy (many addresses at once): drop the one that has the most left.
  const auto fullest = std::max_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
    return a.second.tokens < b.second.tokens;
  });
  buckets_.erase(fullest);
}

std::optional<RequestLimiter::Clock::duration> RequestLimiter::take(const std::string& address,
                                                                    Clock::time_point now) {
  if (rate_ == 0) return std::nullopt;
  const std::lock_guard lock(mutex_);
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxAddresses) make_room(now);
    it = buckets_.emplace(address, Bucket{.tokens = static_cast<double>(burst_), .updated = now}).first;
  }
  Bucket& b = it->second;
  refill(b, now);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  const std::chrono::duration<double> wait((1 - b.tokens) / static_cast<double>(rate_));
  return std::chrono::duration_cast<Clock::duration>(wait);
}

std::size_t RequestLimiter::size() const {
  const std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace ftpsd::admin
