#include "net/connection_limiter.hpp"

namespace ftpsd::net {

void KeyedCounter::Lease::reset() noexcept {
  if (owner_ != nullptr) owner_->release(key_);
  owner_ = nullptr;
}

std::optional<KeyedCounter::Lease> KeyedCounter::try_acquire(const std::string& key, std::size_t limit) {
  const std::lock_guard lock(mutex_);
  auto& n = counts_[key];
  if (limit != 0 && n >= limit) return std::nullopt;
  ++n;
  return Lease(this, key);
}

std::size_t KeyedCounter::count(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

std::size_t KeyedCounter::keys() const {
  const std::lock_guard lock(mutex_);
  return counts_.size();
}

void KeyedCounter::release(const std::string& key) noexcept {
  const std::lock_guard lock(mutex_);
  const auto it = counts_.find(key);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

}  // namespace ftpsd::net
