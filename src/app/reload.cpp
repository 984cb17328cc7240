#include "app/reload.hpp"

#include <fmt/format.h>

#include "config/loader.hpp"
#include "net/passive_host_resolver.hpp"

namespace ftpsd::app {
namespace {

bool same_listeners(const std::vector<config::ListenerConfig>& a,
                    const std::vector<config::ListenerConfig>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].host != b[i].host || a[i].tls != b[i].tls || a[i].proxy_protocol != b[i].proxy_protocol)
      return false;
    // Port 0 (any free port) was replaced by the bound port in the running listener's address only.
    if (a[i].port != b[i].port) return false;
  }
  return true;
}

bool same_range(const std::optional<config::PortRange>& a, const std::optional<config::PortRange>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->first == b->first && a->last == b->last);
}

}  // namespace

Result<ReloadPlan, std::string> prepare_reload(const session::Snapshot& current,
                                               const tls::ContextStore* tls) {
  const auto& old = *current.config;
  config::Config cfg = old;
  if (old.source != "<embedded default>") {
    auto loaded = config::load_file(old.source);
    if (!loaded) return Unexpected{loaded.error().message};
    cfg = std::move(*loaded);
  }
  auto users = std::make_shared<auth::UserStore>();
  if (!cfg.users.file.empty()) {
    auto u = auth::UserStore::load(cfg.users.file);
    if (!u) return Unexpected{u.error().message};
    *users = std::move(*u);
  }
  ReloadPlan plan;
  if (!same_listeners(old.listeners, cfg.listeners)) {
    plan.warnings.emplace_back(
        "listeners: the listening addresses cannot change on reload; restart ftpsd to apply the new ones "
        "(the running listeners stay)");
  }
  cfg.listeners = old.listeners;
  if (cfg.server.threads != old.server.threads ||
      cfg.server.blocking_threads != old.server.blocking_threads) {
    plan.warnings.emplace_back("server.threads and server.blocking_threads: restart ftpsd to apply them");
    cfg.server.threads = old.server.threads;
    cfg.server.blocking_threads = old.server.blocking_threads;
  }
  if (cfg.metrics.address != old.metrics.address) {
    plan.warnings.emplace_back("metrics.address: restart ftpsd to apply it");
    cfg.metrics = old.metrics;
  }
  if (cfg.server.pid_file != old.server.pid_file) {
    plan.warnings.emplace_back("server.pid_file: restart ftpsd to apply it");
    cfg.server.pid_file = old.server.pid_file;
  }
  if (tls != nullptr && cfg.tls.configured()) {
    auto created = tls::ServerContext::create(cfg.tls);
    if (!created)
      return Unexpected{fmt::format("TLS certificate reload failed, keeping the previous certificate: {}",
                                    created.error())};
    plan.tls_context = std::move(*created);
  } else if (tls == nullptr && cfg.tls.configured()) {
    plan.warnings.emplace_back("tls: TLS was not configured at start; restart ftpsd to enable it");
    cfg.tls = old.tls;
  } else if (tls != nullptr) {
    plan.warnings.emplace_back("tls: TLS cannot be switched off on reload; restart ftpsd (TLS stays on)");
    cfg.tls = old.tls;
  }
  plan.policy = std::make_shared<net::PassiveAddressPolicy>(cfg.passive);
  net::resolve_now(*plan.policy);
  plan.next.passive_policy = plan.policy;
  plan.next.ports = same_range(old.passive.ports, cfg.passive.ports)
                        ? current.ports
                        : std::make_shared<net::PassivePortPool>(cfg.passive.ports);
  plan.next.users = std::move(users);
  plan.next.config = std::make_shared<const config::Config>(std::move(cfg));
  return plan;
}

}  // namespace ftpsd::app
