#include "net/passive_port_pool.hpp"

#include <algorithm>
#include <random>

#include "sys/syscalls.hpp"

namespace ftpsd::net {

PassivePortPool::PassivePortPool(std::optional<config::PortRange> range,
                                 std::chrono::steady_clock::duration reuse_delay)
    : range_(range), reuse_delay_(reuse_delay), slots_(range ? range->size() : 0) {}

PassivePortPool::PassivePortPool(std::optional<config::PortRange> range,
                                 std::vector<std::weak_ptr<const PassivePortPool>> previous,
                                 std::chrono::steady_clock::duration reuse_delay)
    : range_(range),
      reuse_delay_(reuse_delay),
      previous_(std::move(previous)),
      slots_(range ? range->size() : 0) {}

PassivePortPool::Hold PassivePortPool::held_before(std::uint16_t port, const asio::ip::address& client,
                                                   Clock::time_point now) const {
  Hold out = Hold::kFree;
  for (const auto& weak : previous_) {
    const auto pool = weak.lock();
    if (!pool) continue;
    const auto h = pool->hold(port, client, now);
    if (h == Hold::kTaken) return h;
    if (h == Hold::kCooling) out = h;
  }
  return out;
}

PassivePortPool::Hold PassivePortPool::hold(std::uint16_t port, const asio::ip::address& client,
                                            Clock::time_point now) const {
  if (range_ && range_->contains(port)) {
    std::lock_guard lock(mutex_);
    const Slot& s = slots_[port - range_->first];
    if (s.taken) return Hold::kTaken;
    if (s.client == client && s.released != Clock::time_point{} && now - s.released < reuse_delay_) {
      // Cooling here; taken in an older pool would still win.
      return held_before(port, client, now) == Hold::kTaken ? Hold::kTaken : Hold::kCooling;
    }
  }
  return held_before(port, client, now);
}

std::optional<std::uint16_t> PassivePortPool::acquire(const asio::ip::address& client,
                                                      Clock::time_point now) {
  if (!range_) return 0;
  const std::size_t n = slots_.size();  // fixed at construction, at least one port
  // A random start, then the first free port that this client did not use within reuse_delay_;
  // O(n) worst case, unpredictable to a client. The start is drawn before taking the lock: it is a
  // system call.
  sys::KernelRandom random;
  const std::size_t start = std::uniform_int_distribution<std::size_t>(0, n - 1)(random);
  std::lock_guard lock(mutex_);
  if (in_use_ == n) {
    ++exhaustions_;
    return std::nullopt;
  }
  std::optional<std::size_t> fallback;
  std::optional<std::size_t> chosen;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    const Slot& s = slots_[i];
    if (s.taken) continue;
    // The pools this one replaced are asked while this one's lock is held: a pool only ever locks
    // older ones, so the order of the locks is always newer before older.
    const auto before = previous_.empty()
                            ? Hold::kFree
                            : held_before(static_cast<std::uint16_t>(range_->first + i), client, now);
    if (before == Hold::kTaken) continue;
    const bool cooling =
        before == Hold::kCooling ||
        (s.client == client && s.released != Clock::time_point{} && now - s.released < reuse_delay_);
    if (!cooling) {
      chosen = i;
      break;
    }
    if (!fallback) fallback = i;
  }
  if (!chosen && !fallback) {  // every free port is held by a pool this one replaced
    ++exhaustions_;
    return std::nullopt;
  }
  if (!chosen) {
    chosen = fallback;
    ++early_reuses_;
  }
  Slot& s = slots_[*chosen];
  s.taken = true;
  s.client = client;
  ++in_use_;
  return static_cast<std::uint16_t>(range_->first + *chosen);
}

void PassivePortPool::release(std::uint16_t port, Clock::time_point now) {
  if (!range_ || !range_->contains(port)) return;
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mutex_);
    Slot& s = slots_[port - range_->first];
    if (!s.taken) return;
    s.taken = false;
    s.released = now;
    --in_use_;
    for (const auto& [id, w] : waiters_) wake.push_back(w);
  }
  for (auto& w : wake) w();
}

std::uint64_t PassivePortPool::add_waiter(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  const auto id = next_waiter_++;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void PassivePortPool::remove_waiter(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  waiters_.erase(id);
}

std::size_t PassivePortPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

std::uint64_t PassivePortPool::exhaustions() const {
  std::lock_guard lock(mutex_);
  return exhaustions_;
}

std::uint64_t PassivePortPool::early_reuses() const {
  std::lock_guard lock(mutex_);
  return early_reuses_;
}

std::size_t PassivePortPool::cooling(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [&](const Slot& s) {
    return !s.taken && s.released != Clock::time_point{} && now - s.released < reuse_delay_;
  }));
}

}  // namespace ftpsd::net
