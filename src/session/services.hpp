#pragma once
// What every session shares: the configuration snapshot, the users, the worker pool, the passive
// ports, the registry of live sessions. Owned by the server; outlives every session.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/user_directory.hpp"
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

// One domain (README "Domains") as its sessions see it: its view of the configuration and what is built
// from it. "default" is the top-level settings.
struct Domain {
  std::string name = "default";
  std::vector<std::string> hosts;                // lower case (config::DomainConfig::hosts)
  std::shared_ptr<const config::Config> config;  // config::Config::for_domain
  std::shared_ptr<const auth::UserStore> users;
  std::shared_ptr<const net::PassiveAddressPolicy> passive_policy;
  std::shared_ptr<net::PassivePortPool> ports;  // the default's, unless the domain has passive.ports
  // Its certificate store; the default's when it has no certificate of its own; null without TLS.
  std::shared_ptr<tls::ContextStore> tls;
};

// What a reload replaces as a whole: the configuration and what is built from it. A session takes the
// current snapshot when it starts and keeps it to its end (its transfers and data connections too).
struct Snapshot {
  std::shared_ptr<const config::Config> config;        // the whole file
  std::vector<std::shared_ptr<const Domain>> domains;  // [0]: "default", then the [[domains]]

  [[nodiscard]] const std::shared_ptr<const Domain>& default_domain() const { return domains.front(); }
  // nullptr: no such domain.
  [[nodiscard]] std::shared_ptr<const Domain> by_name(std::string_view name) const;
  // A host name of HOST, SNI or user@host (any case); nullptr: no domain has it.
  [[nodiscard]] std::shared_ptr<const Domain> by_host(std::string_view host) const;
};

// What lasts across reloads for each domain name: its bandwidth buckets and its counters (metrics).
struct DomainState {
  net::RateLimiter download_limit;  // limits.download_rate, shared by the domain's sessions
  net::RateLimiter upload_limit;    // limits.upload_rate
  std::atomic<std::uint64_t> logins_ok{0};
  std::atomic<std::uint64_t> logins_failed{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
};

struct Services {
  explicit Services(Snapshot first, runtime::BlockingPool& pool, tls::ContextStore* tls_store)
      : blocking(pool), tls(tls_store), current_(std::move(first)) {}

  // Thread-safe: a copy of the current snapshot (under a mutex, once a session).
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
  // [cluster]: password logins are checked here (the database, with its cache) instead of the users
  // file. Null without [cluster]. Set before the loops run.
  std::shared_ptr<auth::UserDirectory> directory;
  // [cluster]: the settings the nodes share, laid over the file's at each reload (the values last read
  // from the database). Empty without [cluster]. Set before the loops run.
  std::function<void(config::Config&)> overlay;

  // Limits and bans (their counters for the metrics are in obs::metrics()).
  net::KeyedCounter sessions_per_ip;    // by client address (the PROXY header's on proxied listeners)
  net::KeyedCounter sessions_per_user;  // by user name, from login to logout
  net::Bans bans;
  // Graceful stop (SIGTERM): once set, idle sessions get 421 and end; running transfers may go on
  // until stop_deadline, then they are aborted and their sessions end with 421 too.
  std::atomic<bool> stopping{false};
  std::atomic<std::chrono::steady_clock::time_point> stop_deadline{};
  StopNotice stop_notice;  // filled before the loops run; notified after `stopping` is set
  // The sessions' time (activity, the watchdog's deadlines; stop_deadline is on it too). The session
  // tests put a manual clock here before any session starts.
  Clock* clock = &Clock::steady();

  // The lasting state of the domain named `name`, made on first use (domains come from the
  // configuration only, so there are few). Thread-safe; the reference stays valid.
  DomainState& domain_state(std::string_view name);
  // Every domain's state so far, by name (the metrics).
  [[nodiscard]] std::vector<std::pair<std::string, const DomainState*>> domain_states() const;

 private:
  mutable std::mutex mutex_;
  Snapshot current_;
  std::map<std::string, std::unique_ptr<DomainState>, std::less<>> domain_states_;  // under mutex_
};

}  // namespace ftpsd::session
