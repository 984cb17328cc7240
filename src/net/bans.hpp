#pragma once
// The ban list ([bans]): failed logins and protocol abuse per client address in a sliding window;
// after bans.max_failures of them within bans.window the address is banned for bans.duration and
// refused at accept. Thread-safe (one instance shared by all event loops). Memory is bounded: at most
// bans.max_entries addresses are tracked; stale entries are dropped first, then unbanned ones.
// Times are passed in, so that tests need no clock.
// An operator (the Manager) may also ban an address or a whole network for a while, and lift any ban;
// such a ban applies whatever [bans] says (bans.max_failures = 0, bans.exempt).
//
// In a cluster ([cluster]) the bans are also shared: every ban made here (after failed logins or by the
// operator) and every lift is handed to a BanSink (the cluster layer writes them to the database), and
// the cluster's bans read back from it replace the shared list wholesale (replace_shared()). The shared
// list is checked at accept like the operator's bans; the local lists keep working on their own while
// the database is away.
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "inet/ip_network.hpp"
#include "runtime/asio.hpp"

namespace ftpsd::net {

// Where the bans made and lifted on this node go to be shared (cluster::BanSync). Called outside the
// ban list's lock, from any thread; must not block.
class BanSink {
 public:
  using Clock = std::chrono::steady_clock;
  BanSink() = default;
  BanSink(const BanSink&) = delete;
  BanSink& operator=(const BanSink&) = delete;
  BanSink(BanSink&&) = delete;
  BanSink& operator=(BanSink&&) = delete;
  virtual ~BanSink() = default;
  // `automatic`: after failed logins (a longer ban of the network is kept), else the operator's (it
  // replaces one of the same network).
  virtual void made(const inet::IpNetwork& network, Clock::time_point until, const std::string& reason,
                    bool automatic) = 0;
  virtual void lifted(const inet::IpNetwork& network) = 0;
};

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
    std::string node;    // in a cluster: the node that made it ("" without [cluster])
  };
  // An operator's ban of `network` (one address: a /32 or /128) until `until`; it replaces an operator's
  // ban of the same network. At most kMaxManual at once: false when full.
  static constexpr std::size_t kMaxManual = 10000;
  bool ban(const inet::IpNetwork& network, Clock::time_point until, const std::string& reason,
           Clock::time_point now);
  // Lifts the operator's ban of exactly `network`, and for one address also its ban after failed logins
  // (its count starts again). False: no such ban.
  bool lift(const inet::IpNetwork& network, Clock::time_point now);
  // Every ban in force: the operator's (in the order made), then those after failed logins (by address).
  [[nodiscard]] std::vector<Listed> list(Clock::time_point now) const;
  // "203.0.113.9" for a /32 or /128, else "203.0.113.0/24".
  [[nodiscard]] static std::string display(const inet::IpNetwork& network);

  // --- the cluster's shared bans
  // From now on bans made and lifted here go to `sink` too; `node` names this node in list(). nullptr:
  // no more (at shutdown, before the sink goes).
  void share(std::shared_ptr<BanSink> sink, std::string node);
  // This node's name as share() set it ("" without [cluster]).
  [[nodiscard]] std::string node() const;
  struct Shared {
    inet::IpNetwork network;
    Clock::time_point until;
    std::string reason;
    std::string node;
    bool automatic = false;  // after failed logins: this node's bans.exempt still applies
  };
  // At most this many shared bans are kept (the database is read with this limit).
  static constexpr std::size_t kMaxShared = 100000;
  // The cluster's bans in force, as read at `read_at`: they replace the shared list. A ban that was in
  // the shared list and is no longer (lifted on some node) is lifted here too, local lists included,
  // unless the local ban was made after `read_at` (the database could not have known it yet).
  void replace_shared(std::vector<Shared> bans, Clock::time_point read_at, Clock::time_point now);

 private:
  struct Manual {
    inet::IpNetwork network;
    Clock::time_point until;
    std::string reason;
    Clock::time_point made{};
  };
  [[nodiscard]] std::optional<Clock::time_point> shared_until(const asio::ip::address& client,
                                                              const config::BansConfig& cfg,
                                                              Clock::time_point now) const;
  Failure record_failure_locked(const std::string& key, const config::BansConfig& cfg, Clock::time_point now,
                                std::shared_ptr<BanSink>& sink, Clock::time_point& until);  // under mutex_
  // Lifts the local bans of exactly `network` made before `before`; under mutex_.
  bool lift_local(const inet::IpNetwork& network, Clock::time_point before, Clock::time_point now);
  [[nodiscard]] std::optional<Clock::time_point> manual_until(const asio::ip::address& client,
                                                              Clock::time_point now) const;

  struct Entry {
    std::deque<Clock::time_point> failures;  // oldest first, at most max(max_failures, kKeep)
    Clock::time_point banned_until{};
    Clock::time_point banned_at{};
  };
  static void expire(Entry& e, const config::BansConfig& cfg, Clock::time_point now);
  void sweep(const config::BansConfig& cfg, Clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::vector<Manual> manual_;  // few: searched one by one at each connection
  // The cluster's bans: single addresses by display(), networks searched one by one.
  std::unordered_map<std::string, Shared> shared_hosts_;
  std::vector<Shared> shared_networks_;
  std::shared_ptr<BanSink> sink_;
  std::string node_;
};

}  // namespace ftpsd::net
