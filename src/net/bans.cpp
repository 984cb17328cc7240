#include "net/bans.hpp"

#include <algorithm>
#include <iterator>
#include <unordered_set>

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
  std::shared_ptr<BanSink> sink;
  Clock::time_point until{};
  auto failure = [&] {
    const std::lock_guard lock(mutex_);
    return record_failure_locked(key, cfg, now, sink, until);
  }();
  if (failure.banned && sink) {
    if (auto network = inet::IpNetwork::parse(key)) sink->made(*network, until, "failed logins", true);
  }
  return failure;
}

Bans::Failure Bans::record_failure_locked(const std::string& key, const config::BansConfig& cfg,
                                          Clock::time_point now, std::shared_ptr<BanSink>& sink,
                                          Clock::time_point& until) {
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
    e.banned_at = now;
    e.failures.clear();  // a fresh count once the ban ends
    sink = sink_;
    until = e.banned_until;
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
  if (!shared_hosts_.empty() || !shared_networks_.empty()) {
    if (auto until = shared_until(client, cfg, now)) return until;
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
  // list(), counted: no strings built or sorted for this node's own bans (a metrics scrape calls it).
  const std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& m : manual_) count += m.until > now ? 1 : 0;
  for (const auto& [address, e] : entries_) count += e.banned_until > now ? 1 : 0;
  if (shared_hosts_.empty() && shared_networks_.empty()) return count;
  std::unordered_set<std::string> own;  // the cluster's bans count but for those this node has itself
  for (const auto& m : manual_)
    if (m.until > now) own.insert(display(m.network));
  for (const auto& [address, e] : entries_)
    if (e.banned_until > now) own.insert(address);
  const auto add = [&](const Shared& b) {
    count += b.until > now && !own.contains(display(b.network)) ? 1 : 0;
  };
  for (const auto& [address, b] : shared_hosts_) add(b);
  for (const auto& b : shared_networks_) add(b);
  return count;
}

std::string Bans::display(const inet::IpNetwork& network) {
  auto text = network.to_string();
  if (network.is_single_address()) text.erase(text.rfind('/'));
  return text;
}

bool Bans::ban(const inet::IpNetwork& network, Clock::time_point until, const std::string& reason,
               Clock::time_point now) {
  const auto key = network.to_string();
  std::shared_ptr<BanSink> sink;
  {
    const std::lock_guard lock(mutex_);
    std::erase_if(manual_, [&](const Manual& m) { return m.until <= now || m.network.to_string() == key; });
    if (manual_.size() >= kMaxManual) return false;
    manual_.push_back(Manual{.network = network, .until = until, .reason = reason, .made = now});
    sink = sink_;
  }
  if (sink) sink->made(network, until, reason, false);
  return true;
}

bool Bans::lift_local(const inet::IpNetwork& network, Clock::time_point before, Clock::time_point now) {
  const auto key = network.to_string();
  bool lifted = false;
  std::erase_if(manual_, [&](const Manual& m) {
    if (m.network.to_string() != key) return m.until <= now;  // expired ones go quietly
    if (m.made >= before) return false;
    lifted = lifted || m.until > now;
    return true;
  });
  if (network.is_single_address()) {
    if (auto it = entries_.find(display(network));
        it != entries_.end() && it->second.banned_until > now && it->second.banned_at < before) {
      entries_.erase(it);
      lifted = true;
    }
  }
  return lifted;
}

bool Bans::lift(const inet::IpNetwork& network, Clock::time_point now) {
  std::shared_ptr<BanSink> sink;
  bool lifted = false;
  {
    const std::lock_guard lock(mutex_);
    lifted = lift_local(network, Clock::time_point::max(), now);
    if (auto it = shared_hosts_.find(display(network));
        it != shared_hosts_.end() && it->second.network.prefix() == network.prefix()) {
      lifted = lifted || it->second.until > now;
      shared_hosts_.erase(it);
    }
    const auto key = network.to_string();
    std::erase_if(shared_networks_, [&](const Shared& b) {
      if (b.network.to_string() != key) return false;
      lifted = lifted || b.until > now;
      return true;
    });
    sink = sink_;
  }
  if (lifted && sink) sink->lifted(network);
  return lifted;
}

void Bans::share(std::shared_ptr<BanSink> sink, std::string node) {
  const std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
  node_ = std::move(node);
}

std::string Bans::node() const {
  const std::lock_guard lock(mutex_);
  return node_;
}

std::optional<Bans::Clock::time_point> Bans::shared_until(const asio::ip::address& client,
                                                          const config::BansConfig& cfg,
                                                          Clock::time_point now) const {
  const auto address = inet::unmap(client);
  // A ban after failed logins on another node spares this node's bans.exempt.
  const auto applies = [&](const Shared& b) {
    return b.until > now && (!b.automatic || !inet::any_contains(cfg.exempt, address));
  };
  std::optional<Clock::time_point> until;
  if (auto it = shared_hosts_.find(address.to_string()); it != shared_hosts_.end() && applies(it->second))
    until = it->second.until;
  for (const auto& b : shared_networks_)
    if (b.network.contains(address) && applies(b)) until = std::max(until.value_or(b.until), b.until);
  return until;
}

void Bans::replace_shared(std::vector<Shared> bans, Clock::time_point read_at, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  std::unordered_set<std::string> kept;
  for (const auto& b : bans) kept.insert(b.network.to_string());
  const auto gone = [&](const Shared& b) {
    if (b.until > now && !kept.contains(b.network.to_string())) (void)lift_local(b.network, read_at, now);
  };
  for (const auto& [address, b] : shared_hosts_) gone(b);
  for (const auto& b : shared_networks_) gone(b);
  shared_hosts_.clear();
  shared_networks_.clear();
  for (auto& b : bans) {
    if (b.until <= now) continue;
    if (shared_hosts_.size() + shared_networks_.size() >= kMaxShared) break;
    if (b.network.is_single_address()) {
      auto address = display(b.network);
      shared_hosts_.insert_or_assign(std::move(address), std::move(b));
    } else {
      shared_networks_.push_back(std::move(b));
    }
  }
}

std::vector<Bans::Listed> Bans::list(Clock::time_point now) const {
  std::vector<Listed> out;
  const std::lock_guard lock(mutex_);
  for (const auto& m : manual_)
    if (m.until > now)
      out.push_back(
          Listed{.address = display(m.network), .until = m.until, .reason = m.reason, .node = node_});
  const auto by_address = [](const Listed& a, const Listed& b) { return a.address < b.address; };
  std::vector<Listed> automatic;
  for (const auto& [address, e] : entries_)
    if (e.banned_until > now)
      automatic.push_back(
          Listed{.address = address, .until = e.banned_until, .reason = "failed logins", .node = node_});
  std::sort(automatic.begin(), automatic.end(), by_address);
  out.insert(out.end(), automatic.begin(), automatic.end());
  if (shared_hosts_.empty() && shared_networks_.empty()) return out;
  // Then the cluster's, but for those this node has itself.
  std::unordered_set<std::string> listed;
  for (const auto& b : out) listed.insert(b.address);
  std::vector<Listed> shared;
  const auto add = [&](const Shared& b) {
    auto address = display(b.network);
    if (b.until > now && !listed.contains(address))
      shared.push_back(
          Listed{.address = std::move(address), .until = b.until, .reason = b.reason, .node = b.node});
  };
  for (const auto& [address, b] : shared_hosts_) add(b);
  for (const auto& b : shared_networks_) add(b);
  std::sort(shared.begin(), shared.end(), by_address);
  out.insert(out.end(), shared.begin(), shared.end());
  return out;
}

}  // namespace ftpsd::net
