#pragma once
// The ban list ([bans]): failed logins and protocol abuse per client address in a sliding window;
// after bans.max_failures of them within bans.window the address is banned for bans.duration and
// refused at accept. Thread-safe (one instance shared by all event loops). Memory is bounded: at most
// bans.max_entries addresses are tracked; stale entries are dropped first, then unbanned ones.
// Times are passed in, so that tests need no clock.
// An operator (the Manager) may also ban an address or a whole network for a while, and lift any ban;
// such a ban applies whatever [bans] says (bans.max_failures = 0, bans.exempt).
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "inet/ip_network.hpp"
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

  // A ban as listed: "203.0.113.9" (one address) or "203.0.113.0/24".
  struct Listed {
    std::string address;
    Clock::time_point until;
    std::string reason;  // "failed logins", or the operator's words
  };
  // An operator's ban of `network` (one address: a /32 or /128) until `until`; it replaces an operator's
  // ban of the same network. At most kMaxManual at once: false when full.
  static constexpr std::size_t kMaxManual = 10000;
  bool ban(const inet::IpNetwork& network, Clock::time_point until, std::string reason,
           Clock::time_point now);
  // Lifts the operator's ban of exactly `network`, and for one address also its ban after failed logins
  // (its count starts again). False: no such ban.
  bool lift(const inet::IpNetwork& network, Clock::time_point now);
  // Every ban in force: the operator's (in the order made), then those after failed logins (by address).
  [[nodiscard]] std::vector<Listed> list(Clock::time_point now) const;
  // "203.0.113.9" for a /32 or /128, else "203.0.113.0/24".
  [[nodiscard]] static std::string display(const inet::IpNetwork& network);

 private:
  struct Manual {
    inet::IpNetwork network;
    Clock::time_point until;
    std::string reason;
  };
  [[nodiscard]] std::optional<Clock::time_point> manual_until(const asio::ip::address& client,
                                                              Clock::time_point now) const;

  struct Entry {
    std::deque<Clock::time_point> failures;  // oldest first, at most max(max_failures, kKeep)
    Clock::time_point banned_until{};
  };
  static void expire(Entry& e, const config::BansConfig& cfg, Clock::time_point now);
  void sweep(const config::BansConfig& cfg, Clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::vector<Manual> manual_;  // few: searched one by one at each connection
};

}  // namespace ftpsd::net
