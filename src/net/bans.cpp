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

std::optional<Bans::Clock::time_point> Bans::manual_until(const asio::ip::address& client,
                                                          Clock::time_point now) const {
  std::optional<Clock::time_point> until;
  const auto address = inet::unmap(client);
  for (const auto& m : manual_)
    if (m.until > now && m.network.contains(address)) until = std::max(until.value_or(m.until), m.until);
  return until;
}

std::optional<Bans::Clock::time_point> Bans::banned_until(const asio::ip::address& client,
                                                          const config::BansConfig& cfg,
                                                          Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  if (!manual_.empty()) {
    if (auto until = manual_until(client, now)) return until;
  }
  if (cfg.max_failures == 0 || inet::any_contains(cfg.exempt, inet::unmap(client))) return std::nullopt;
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
  const auto manual =
      std::count_if(manual_.begin(), manual_.end(), [&](const Manual& m) { return m.until > now; });
  return static_cast<std::size_t>(
      manual + std::count_if(entries_.begin(), entries_.end(),
                             [&](const auto& kv) { return kv.second.banned_until > now; }));
}

std::string Bans::display(const inet::IpNetwork& network) {
  auto text = network.to_string();
  if (network.prefix() == (network.is_v4() ? 32U : 128U)) text.erase(text.rfind('/'));
  return text;
}

bool Bans::ban(const inet::IpNetwork& network, Clock::time_point until, std::string reason,
               Clock::time_point now) {
  const auto key = network.to_string();
  const std::lock_guard lock(mutex_);
  std::erase_if(manual_, [&](const Manual& m) { return m.until <= now || m.network.to_string() == key; });
  if (manual_.size() >= kMaxManual) return false;
  manual_.push_back(Manual{.network = network, .until = until, .reason = std::move(reason)});
  return true;
}

bool Bans::lift(const inet::IpNetwork& network, Clock::time_point now) {
  const auto key = network.to_string();
  const std::lock_guard lock(mutex_);
  bool lifted = false;
  std::erase_if(manual_, [&](const Manual& m) {
    if (m.network.to_string() != key) return m.until <= now;  // expired ones go quietly
    lifted = lifted || m.until > now;
    return true;
  });
  if (network.prefix() == (network.is_v4() ? 32U : 128U)) {
    if (auto it = entries_.find(display(network)); it != entries_.end() && it->second.banned_until > now) {
      entries_.erase(it);
      lifted = true;
    }
  }
  return lifted;
}

std::vector<Bans::Listed> Bans::list(Clock::time_point now) const {
  std::vector<Listed> out;
  const std::lock_guard lock(mutex_);
  for (const auto& m : manual_)
    if (m.until > now)
      out.push_back(Listed{.address = display(m.network), .until = m.until, .reason = m.reason});
  std::vector<Listed> automatic;
  for (const auto& [address, e] : entries_)
    if (e.banned_until > now)
      automatic.push_back(Listed{.address = address, .until = e.banned_until, .reason = "failed logins"});
  std::sort(automatic.begin(), automatic.end(),
            [](const Listed& a, const Listed& b) { return a.address < b.address; });
  out.insert(out.end(), automatic.begin(), automatic.end());
  return out;
}

}  // namespace ftpsd::net
