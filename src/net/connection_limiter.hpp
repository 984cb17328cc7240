#pragma once
// Counts open sessions per key (a client address, a user name) against a limit: server.max_sessions_per_ip
// and the per-user session limit. Thread-safe: all event loops share one instance. A Lease gives its
// slot back when it is destroyed, so every way a session ends releases it exactly once.
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ftpsd::net {

class KeyedCounter {
 public:
  // One held slot. Empty (default-constructed or moved from): holds nothing.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : owner_(o.owner_), key_(std::move(o.key_)) { o.owner_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept {
      if (this != &o) {
        reset();
        owner_ = o.owner_;
        key_ = std::move(o.key_);
        o.owner_ = nullptr;
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { reset(); }
    void reset() noexcept;
    [[nodiscard]] bool held() const noexcept { return owner_ != nullptr; }

   private:
    friend class KeyedCounter;
    Lease(KeyedCounter* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    KeyedCounter* owner_ = nullptr;
    std::string key_;
  };

  // A slot for `key` if fewer than `limit` are held; `limit` 0: no limit (still counted, so that a
  // limit set later by a reload counts the sessions already open). nullopt: over the limit.
  [[nodiscard]] std::optional<Lease> try_acquire(const std::string& key, std::size_t limit);
  [[nodiscard]] std::size_t count(const std::string& key) const;
  [[nodiscard]] std::size_t keys() const;

 private:
  void release(const std::string& key) noexcept;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> counts_;  // only keys with at least one slot held
};

}  // namespace ftpsd::net
