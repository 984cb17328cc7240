#pragma once
// The ban list ([bans]): failed logins and protocol abuse per client address in a sliding window;
// after bans.max_failures of them within bans.window the address is banned for bans.duration and
// refused at accept. Thread-safe (one instance shared by all event loops). Memory is bounded: at most
// bans.max_entries addresses are tracked; stale entries are dropped first, then unbanned ones.
// Times are passed in, so that tests need no clock.
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/config.hpp"
#include "runtime/asio.hpp"

namespace ftpsd::net {

class Bans {
 public:
  using Clock = std::chrono::steady_clock;

  struct Failure {
    std::size_t recent = 0;  // failures of this address within the window, this one included
    bool banned = false;     // this failure started a ban
    bool tracked = true;     // false: exempt, or the table is full of banned addresses
  };

  Failure record_failure(const asio::ip::address& client, const config::BansConfig& cfg,
                         Clock::time_point now);
  // When the address is banned: the end of the ban.
  [[nodiscard]] std::optional<Clock::time_point> banned_until(const asio::ip::address& client,
                                                              const config::BansConfig& cfg,
                                                              Clock::time_point now);
  // Recent failures of the address (for the growing login delay).
  [[nodiscard]] std::size_t recent_failures(const asio::ip::address& client, const config::BansConfig& cfg,
                                            Clock::time_point now);
  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::size_t banned_count(Clock::time_point now) const;

 private:
  struct Entry {
    std::deque<Clock::time_point> failures;  // oldest first, at most max(max_failures, kKeep)
    Clock::time_point banned_until{};
  };
  static void expire(Entry& e, const config::BansConfig& cfg, Clock::time_point now);
  void sweep(const config::BansConfig& cfg, Clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ftpsd::net
