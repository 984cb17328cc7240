#pragma once
// Hands out passive data ports from the configured range. Thread-safe (shared by all event loops).
// - Ports come in an unpredictable order (a guessable next port helps data-port theft: the order is
//   drawn from the kernel's CSPRNG, since a seeded generator such as std::minstd_rand can be
//   recovered from a few ports), never to two listeners at once, and always from the range: the
//   firewall forwards only that.
// - A port just released is handed at once to a *different* client address, but not to the same one
//   until `reuse_delay` has passed: the last connection between that client and this port may still
//   be in TIME_WAIT, and a new one on the same address pair can be refused. When no other port is
//   free, the pool reuses such a port rather than refusing.
// - Exhaustion is counted; waiters (passive.on_exhausted = "wait") are woken on every release.
// - A pool that replaces others (a reload changed passive.ports) hands out no port that one of them
//   still holds (a session of the previous configuration listens on it, maybe on another local address
//   than the next session would), and avoids one cooling down there for the same client, as its own.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "runtime/asio.hpp"

namespace ftpsd::net {

// Linux keeps a closed TCP connection in TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN, 2 MSL).
inline constexpr std::chrono::seconds kTimeWait{60};

class PassivePortPool {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PassivePortPool(std::optional<config::PortRange> range,
                           std::chrono::steady_clock::duration reuse_delay = kTimeWait);
  // Replaces `previous` (the pools of the running configuration), without keeping them alive: once
  // the last session of the previous configuration is gone, so is its pool and what it held.
  PassivePortPool(std::optional<config::PortRange> range,
                  std::vector<std::weak_ptr<const PassivePortPool>> previous,
                  std::chrono::steady_clock::duration reuse_delay = kTimeWait);

  // A port to bind for `client`, or nullopt when every port of the range is taken (counted as an
  // exhaustion). Without a range: 0 (the kernel picks), never exhausted.
  [[nodiscard]] std::optional<std::uint16_t> acquire(const asio::ip::address& client = {},
                                                     Clock::time_point now = Clock::now());
  // Gives a port back (0 is ignored). Safe to call for a port that is not taken.
  void release(std::uint16_t port, Clock::time_point now = Clock::now());

  // Called (on the releasing thread, without the pool's lock) after each release until removed.
  // The callback must only post work to its own executor.
  [[nodiscard]] std::uint64_t add_waiter(std::function<void()> wake);
  void remove_waiter(std::uint64_t id);

  // How this pool, or one it replaced, holds `port` now for `client`.
  enum class Hold : std::uint8_t { kFree, kCooling, kTaken };
  [[nodiscard]] Hold hold(std::uint16_t port, const asio::ip::address& client,
                          Clock::time_point now = Clock::now()) const;

  [[nodiscard]] bool ranged() const noexcept { return range_.has_value(); }
  [[nodiscard]] std::size_t in_use() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return range_ ? range_->size() : 0; }
  [[nodiscard]] std::uint64_t exhaustions() const;
  // Times a port still cooling down for the same client was handed out because nothing else was free.
  [[nodiscard]] std::uint64_t early_reuses() const;
  // Free ports still cooling down for their last client (within reuse_delay of their release: the
  // last connection may be in TIME_WAIT). For the metrics; O(range size).
  [[nodiscard]] std::size_t cooling(Clock::time_point now = Clock::now()) const;

 private:
  struct Slot {
    bool taken = false;
    asio::ip::address client;      // the last client it was handed to
    Clock::time_point released{};  // when it was last given back
  };
  // What the pools this one replaced hold `port` as (kFree when none holds it).
  [[nodiscard]] Hold held_before(std::uint16_t port, const asio::ip::address& client,
                                 Clock::time_point now) const;

  std::optional<config::PortRange> range_;
  Clock::duration reuse_delay_;
  const std::vector<std::weak_ptr<const PassivePortPool>> previous_;  // fixed at construction
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;
  std::size_t in_use_ = 0;
  std::uint64_t exhaustions_ = 0;
  std::uint64_t early_reuses_ = 0;
  std::uint64_t next_waiter_ = 1;
  std::map<std::uint64_t, std::function<void()>> waiters_;
};

// Holds a port for its lifetime.
class PortLease {
 public:
  PortLease() = default;
  PortLease(PassivePortPool* pool, std::uint16_t port) : pool_(pool), port_(port) {}
  PortLease(PortLease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), port_(o.port_) {}
  PortLease& operator=(PortLease&& o) noexcept {
    if (this != &o) {
      reset();
      pool_ = std::exchange(o.pool_, nullptr);
      port_ = o.port_;
    }
    return *this;
  }
  ~PortLease() { reset(); }
  void reset() {
    if (pool_) pool_->release(port_);
    pool_ = nullptr;
  }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

 private:
  PassivePortPool* pool_ = nullptr;
  std::uint16_t port_ = 0;
};

}  // namespace ftpsd::net
