#include "net/passive_port_pool.hpp"

namespace ftpsd::net {

PassivePortPool::PassivePortPool(std::optional<config::PortRange> range)
    : range_(range), taken_(range ? range->size() : 0, false), rng_(std::random_device{}()) {}

std::optional<std::uint16_t> PassivePortPool::acquire() {
  if (!range_) return 0;
  std::lock_guard lock(mutex_);
  const std::size_t n = taken_.size();
  if (in_use_ == n) return std::nullopt;
  // A random start, then the next free port: O(n) worst case, unpredictable to a client.
  std::size_t i = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  while (taken_[i]) i = (i + 1) % n;
  taken_[i] = true;
  ++in_use_;
  return static_cast<std::uint16_t>(range_->first + i);
}

void PassivePortPool::release(std::uint16_t port) {
  if (!range_ || !range_->contains(port)) return;
  std::lock_guard lock(mutex_);
  const std::size_t i = port - range_->first;
  if (taken_[i]) {
    taken_[i] = false;
    --in_use_;
  }
}

std::size_t PassivePortPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

}  // namespace ftpsd::net
