#pragma once
// Configuration reload (SIGHUP, `ftpsd reload`): the new configuration file is read and checked as a
// whole on the worker pool, then applied at once to new sessions and new data connections. Running
// sessions keep their snapshot; nothing is dropped. A broken configuration changes nothing.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/blocking_pool.hpp"
#include "session/services.hpp"
#include "tls/context.hpp"
#include "util/result.hpp"

namespace ftpsd::app {

struct ReloadPlan {
  session::Snapshot next;
  std::vector<std::shared_ptr<net::PassiveAddressPolicy>> policies;  // next.domains', for their resolvers
  std::shared_ptr<tls::ServerContext> tls_context;                   // null: TLS unchanged (not configured)
  std::vector<std::string> warnings;  // settings that need a restart, kept as they were
};

// Blocking (file reads, certificate loading, a DNS lookup for passive.address): on the worker pool.
// Reads current.config->source again; the error names file:line and key.
// `overlay` (may be empty): applied to the file's configuration once loaded ([cluster]: the shared settings).
[[nodiscard]] Result<ReloadPlan, std::string> prepare_reload(
    const session::Snapshot& current, const std::function<void(config::Config&)>& overlay = {});

// SIGHUP and the Manager: prepare_reload on the worker pool, then the new snapshot is published for new
// sessions and log files are reopened (logrotate). A broken configuration changes nothing; the log and
// the returned error say why (nullopt: applied).
Task<std::optional<std::string>> reload_configuration(session::Services& services,
                                                      runtime::BlockingPool& blocking);

// tls.reload_check: every `every`, the certificate and key files of the default and of every domain with
// its own certificate are loaded again when they changed.
Task<void> watch_certificates(session::Services& services, runtime::BlockingPool& blocking, Duration every);

}  // namespace ftpsd::app
