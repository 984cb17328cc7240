#pragma once
// The records of users whose password this node verified against the database, kept for cluster.
// cache_ttl after that login so that they can log in while the database is unreachable. Pure (the
// time is an argument); thread-safe.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/user.hpp"

namespace ftpsd::cluster {

class UserCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit UserCache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  // The record of a login verified at `now` (replaces an older one).
  void remember(std::string_view domain, const std::shared_ptr<const auth::User>& user,
                Clock::time_point now);
  // The database says the user is gone (or changed): drop what is kept.
  void forget(std::string_view domain, std::string_view name);
  // The record, if a login of it was verified less than ttl before `now`; expired records are dropped.
  [[nodiscard]] std::shared_ptr<const auth::User> find(std::string_view domain, std::string_view name,
                                                       Clock::time_point now);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const auth::User> user;
    Clock::time_point verified;
  };
  static std::string key(std::string_view domain, std::string_view name);
  void drop_expired(Clock::time_point now);  // under mutex_

  std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace ftpsd::cluster
