#include "cluster/user_cache.hpp"

#include <iterator>

namespace ftpsd::cluster {

std::string UserCache::key(std::string_view domain, std::string_view name) {
  std::string k(domain);
  k += '\n';  // in neither a domain nor a user name
  k += name;
  return k;
}

void UserCache::drop_expired(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& e) { return now - e.second.verified >= ttl_; });
}

void UserCache::remember(std::string_view domain, const std::shared_ptr<const auth::User>& user,
                         Clock::time_point now) {
  std::lock_guard lock(mutex_);
  drop_expired(now);  // bounds the map by the users seen within ttl
  entries_.insert_or_assign(key(domain, user->name), Entry{user, now});
}

void UserCache::forget(std::string_view domain, std::string_view name) {
  std::lock_guard lock(mutex_);
  entries_.erase(key(domain, name));
}

std::shared_ptr<const auth::User> UserCache::find(std::string_view domain, std::string_view name,
                                                  Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(key(domain, name));
  if (it == entries_.end()) return nullptr;
  if (now - it->second.verified >= ttl_) {
    entries_.erase(it);
    return nullptr;
  }
  return it->second.user;
}

std::size_t UserCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace ftpsd::cluster
