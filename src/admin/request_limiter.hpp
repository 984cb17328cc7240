#pragma once
// The Manager's request rate limit (admin.rate_limit, admin.rate_burst): a token bucket per client
// address. Each request takes one token; a bucket holds at most `burst` and refills at `rate` a second.
// Memory is bounded: past kMaxAddresses, buckets that have refilled completely (idle clients) are
// forgotten first, then the fullest. Thread-safe; times are passed in, so that tests need no clock.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ftpsd::admin {

class RequestLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxAddresses = 10000;

  // rate = 0: no limit.
  RequestLimiter(std::size_t rate, std::size_t burst) : rate_(rate), burst_(burst) {}

  // nullopt: the request may go on. Else how long until the address may send one again.
  [[nodiscard]] std::optional<Clock::duration> take(const std::string& address, Clock::time_point now);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated{};
  };
  void refill(Bucket& b, Clock::time_point now) const;
  void make_room(Clock::time_point now);

  const std::size_t rate_;
  const std::size_t burst_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace ftpsd::admin
