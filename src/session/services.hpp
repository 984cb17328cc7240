#pragma once
// What every session shares: the configuration snapshot, the users, the worker pool, the passive
// ports. Owned by the server; outlives every session.
#include <atomic>
#include <memory>

#include "auth/user_store.hpp"
#include "config/config.hpp"
#include "net/passive_address_policy.hpp"
#include "net/passive_port_pool.hpp"
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
};

}  // namespace ftpsd::session
