#include "net/bans.hpp"

#include <algorithm>
#include <iterator>

#include "inet/ip_network.hpp"

namespace ftpsd::net {
namespace {

constexpr std::size_t kKeep = 16;  // failures remembered for the login delay when bans are off

std::string key_of(const asio::ip::address& a) {
  return inet::unmap(a).to_string();
}

}  // namespace

void Bans::expire(Entry& e, const config::BansConfig& cfg, Clock::time_point now) {
  while (!e.failures.empty() && now - e.failures.front() >= cfg.window) e.failures.pop_front();
}

void Bans::sweep(const config::BansConfig& cfg, Clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    expire(it->second, cfg, now);
    it = it->second.failures.empty() && it->second.banned_until <= now ? entries_.erase(it) : std::next(it);
  }
  // Still full (an attacker with many addresses): forget the counts, keep the bans.
  if (entries_.size() >= cfg.max_entries)
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.banned_until <= now; });
}

Bans::Failure Bans::record_failure(const asio::ip::address& client, const config::BansConfig& cfg,
                                   Clock::time_point now) {
  if (inet::any_contains(cfg.exempt, inet::unmap(client)))
    return {.recent = 0, .banned = false, .tracked = false};
  const auto key = key_of(client);
  const std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= cfg.max_entries) sweep(cfg, now);
    if (entries_.size() >= cfg.max_entries) return {.recent = 1, .banned = false, .tracked = false};
    it = entries_.emplace(key, Entry{}).first;
  }
  Entry& e = it->second;
  expire(e, cfg, now);
  e.failures.push_back(now);
  while (e.failures.size() > std::max(cfg.max_failures, kKeep)) e.failures.pop_front();
  const std::size_t recent = e.failures.size();
  if (cfg.max_failures > 0 && recent >= cfg.max_failures && e.banned_until <= now) {
    e.banned_until = now + cfg.duration;
    e.failures.clear();  // a fresh count once the ban ends
    return {.recent = recent, .banned = true, .tracked = true};
  }
  return {.recent = recent, .banned = false, .tracked = true};
}

std::optional<Bans::Clock::time_point> Bans::banned_until(const asio::ip::address& client,
                                                          const config::BansConfig& cfg,
                                                          Clock::time_point now) {
  if (cfg.max_failures == 0 || inet::any_contains(cfg.exempt, inet::unmap(client))) return std::nullopt;
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(key_of(client));
  if (it == entries_.end()) return std::nullopt;
  if (it->second.banned_until > now) return it->second.banned_until;
  expire(it->second, cfg, now);
  if (it->second.failures.empty()) entries_.erase(it);
  return std::nullopt;
}

std::size_t Bans::recent_failures(const asio::ip::address& client, const config::BansConfig& cfg,
                                  Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(key_of(client));
  if (it == entries_.end()) return 0;
  expire(it->second, cfg, now);
  return it->second.failures.size();
}

std::size_t Bans::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t Bans::banned_count(Clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      entries_.begin(), entries_.end(), [&](const auto& kv) { return kv.second.banned_until > now; }));
}

}  // namespace ftpsd::net
