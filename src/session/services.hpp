#pragma once
// What every session shares: the configuration snapshot, the users, the worker pool, the passive
// ports. Owned by the server; outlives every session.
#include <atomic>
#include <memory>

#include "auth/user_store.hpp"
#include "config/config.hpp"
#include "net/bans.hpp"
#include "net/connection_limiter.hpp"
#include "net/passive_address_policy.hpp"
#include "net/passive_port_pool.hpp"
#include "net/rate_limiter.hpp"
#include "runtime/blocking_pool.hpp"
#include "tls/context.hpp"

namespace ftpsd::session {

struct Services {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const auth::UserStore> users;
  std::shared_ptr<const net::PassiveAddressPolicy> passive_policy;
  runtime::BlockingPool& blocking;
  net::PassivePortPool& ports;
  tls::ContextStore* tls = nullptr;  // null when no certificate is configured; sessions take current()
  std::atomic<std::uint64_t> next_session_id{1};
  // Data connections that did not resume the control connection's TLS session: refused (require)
  // or accepted and counted (report).
  std::atomic<std::uint64_t> tls_reuse_refused{0};
  std::atomic<std::uint64_t> tls_reuse_reported{0};
  std::atomic<std::size_t> sessions{0};

  // Limits and bans (issue 5). The counters are totals since start, for metrics.
  net::KeyedCounter sessions_per_ip;    // by client address (the PROXY header's on proxied listeners)
  net::KeyedCounter sessions_per_user;  // by user name, from login to logout
  net::Bans bans;
  net::RateLimiter download_limit;  // limits.download_rate, shared by all sessions
  net::RateLimiter upload_limit;    // limits.upload_rate
  std::atomic<std::uint64_t> failed_logins{0};
  std::atomic<std::uint64_t> protocol_abuse{0};  // refused PORT/EPRT bounces, foreign data connections
  std::atomic<std::uint64_t> bans_started{0};
  std::atomic<std::uint64_t> refused_max_sessions{0};
  std::atomic<std::uint64_t> refused_banned{0};
  std::atomic<std::uint64_t> refused_per_ip{0};
  std::atomic<std::uint64_t> refused_per_user{0};
};

}  // namespace ftpsd::session
