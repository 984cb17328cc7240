#pragma once
// Hands out passive data ports from the configured range. Thread-safe (shared by all event loops).
// Ports come in an unpredictable order (a guessable next port helps data-port theft), never to two
// listeners at once, and always from the range: the firewall forwards only that.
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "config/config.hpp"

namespace ftpsd::net {

class PassivePortPool {
 public:
  explicit PassivePortPool(std::optional<config::PortRange> range);

  // A port to bind, or nullopt when every port of the range is taken. Without a range: 0 (the
  // kernel picks), never exhausted.
  [[nodiscard]] std::optional<std::uint16_t> acquire();
  // Gives a port back (0 is ignored). Safe to call for a port that is not taken.
  void release(std::uint16_t port);

  [[nodiscard]] bool ranged() const noexcept { return range_.has_value(); }
  [[nodiscard]] std::size_t in_use() const;
  [[nodiscard]] std::size_t capacity() const noexcept { return range_ ? range_->size() : 0; }

 private:
  std::optional<config::PortRange> range_;
  mutable std::mutex mutex_;
  std::vector<bool> taken_;
  std::size_t in_use_ = 0;
  std::minstd_rand rng_;
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
