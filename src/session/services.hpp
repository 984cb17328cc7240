#pragma once
// What every session shares: the configuration snapshot, the users, the worker pool, the passive
// ports, the registry of live sessions. Owned by the server; outlives every session.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "auth/user_store.hpp"
#include "config/config.hpp"
#include "net/bans.hpp"
#include "net/connection_limiter.hpp"
#include "net/passive_address_policy.hpp"
#include "net/passive_port_pool.hpp"
#include "net/rate_limiter.hpp"
#include "runtime/blocking_pool.hpp"
#include "session/clock.hpp"
#include "session/registry.hpp"
#include "session/stop_notice.hpp"
#include "tls/context.hpp"
#include "vfs/root_handles.hpp"

namespace ftpsd::session {

// What a reload replaces as a whole: the configuration and what is built from it. A session takes the
// current snapshot when it starts and keeps it to its end (its transfers and data connections too).
struct Snapshot {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const auth::UserStore> users;
  std::shared_ptr<const net::PassiveAddressPolicy> passive_policy;
  std::shared_ptr<net::PassivePortPool> ports;  // the same pool until passive.ports changes
};

struct Services {
  explicit Services(Snapshot first, runtime::BlockingPool& pool, tls::ContextStore* tls_store)
      : blocking(pool), tls(tls_store), current_(std::move(first)) {}

  // Thread-safe: a copy of the current snapshot (four shared_ptr copies under a mutex, once a session).
  [[nodiscard]] Snapshot snapshot() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void publish(Snapshot next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }

  runtime::BlockingPool& blocking;
  tls::ContextStore* tls = nullptr;  // null when no certificate is configured; sessions take current()
  std::atomic<std::uint64_t> next_session_id{1};
  std::atomic<std::size_t> sessions{0};  // now, against server.max_sessions (counted at accept)
  // The live sessions, readable (and endable) from any thread; each session registers itself when it
  // starts and leaves at its end.
  SessionRegistry registry;
  vfs::RootHandles roots;  // the users' root folders, one handle per folder shared by its sessions

  // Limits and bans (their counters for the metrics are in obs::metrics()).
  net::KeyedCounter sessions_per_ip;    // by client address (the PROXY header's on proxied listeners)
  net::KeyedCounter sessions_per_user;  // by user name, from login to logout
  net::Bans bans;
  net::RateLimiter download_limit;  // limits.download_rate, shared by all sessions
  net::RateLimiter upload_limit;    // limits.upload_rate
  // Graceful stop (SIGTERM): once set, idle sessions get 421 and end; running transfers may go on
  // until stop_deadline, then they are aborted and their sessions end with 421 too.
  std::atomic<bool> stopping{false};
  std::atomic<std::chrono::steady_clock::time_point> stop_deadline{};
  StopNotice stop_notice;  // filled before the loops run; notified after `stopping` is set
  // The sessions' time (activity, the watchdog's deadlines; stop_deadline is on it too). The session
  // tests put a manual clock here before any session starts.
  Clock* clock = &Clock::steady();

 private:
  mutable std::mutex mutex_;
  Snapshot current_;
};

}  // namespace ftpsd::session
