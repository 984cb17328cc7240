#include "app/reload.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "app/domains.hpp"
#include "app/systemd.hpp"
#include "config/loader.hpp"
#include "net/passive_host_resolver.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"

namespace ftpsd::app {
namespace {

bool same_listeners(const std::vector<config::ListenerConfig>& a,
                    const std::vector<config::ListenerConfig>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].host != b[i].host || a[i].tls != b[i].tls || a[i].proxy_protocol != b[i].proxy_protocol ||
        a[i].domain != b[i].domain)
      return false;
    // Port 0 (any free port) was replaced by the bound port in the running listener's address only.
    if (a[i].port != b[i].port) return false;
  }
  return true;
}

// The Manager reads its settings and admins file at start only.
bool same_admin(const config::AdminConfig& a, const config::AdminConfig& b) {
  if (a.address != b.address || a.tls != b.tls || a.users_file != b.users_file ||
      a.audit_file != b.audit_file || a.allow.size() != b.allow.size())
    return false;
  for (std::size_t i = 0; i < a.allow.size(); ++i) {
    if (a.allow[i].to_string() != b.allow[i].to_string()) return false;
  }
  return true;
}

// Loads the certificates again (on the blocking pool). A broken file keeps the old context: running
// sessions are never affected, new ones keep working, and the log says why.
Task<void> reload_certificates(tls::ContextStore& store, runtime::BlockingPool& blocking,
                               bool only_if_changed) {
  auto result =
      co_await blocking.run([&] { return only_if_changed ? store.reload_if_changed() : store.reload(); });
  if (!result) {
    spdlog::error("TLS certificate reload failed, keeping the previous certificate: {}", result.error());
  } else if (*result) {
    spdlog::info("TLS certificate reloaded: {}", store.current()->description());
  }
}

}  // namespace

Result<ReloadPlan, std::string> prepare_reload(const session::Snapshot& current,
                                               const std::function<void(config::Config&)>& overlay) {
  const auto& old = *current.config;
  const auto& tls = current.default_domain()->tls;
  config::Config cfg = old;
  if (old.source != config::kEmbeddedDefaultName) {
    auto loaded = config::load_file(old.source);
    if (!loaded) return Unexpected{loaded.error().message};
    cfg = std::move(*loaded);
    if (overlay) overlay(cfg);
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
  if (!same_admin(cfg.admin, old.admin)) {
    plan.warnings.emplace_back("admin: restart ftpsd to apply the [admin] settings");
    cfg.admin = old.admin;
  }
  if (cfg.server.pid_file != old.server.pid_file) {
    plan.warnings.emplace_back("server.pid_file: restart ftpsd to apply it");
    cfg.server.pid_file = old.server.pid_file;
  }
  if (tls != nullptr && cfg.tls.configured()) {
    auto created = tls::ServerContext::create(cfg.served_tls());
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
  auto config = std::make_shared<const config::Config>(std::move(cfg));
  // New users, policies and port pools (the running ones where passive.ports did not change), and new
  // certificate stores for the domains with their own certificates.
  auto built = build_domains(config, tls, &current);
  if (!built) return Unexpected{built.error()};
  plan.next = session::Snapshot{.config = std::move(config), .domains = std::move(built->domains)};
  plan.policies = std::move(built->policies);
  return plan;
}

// SIGHUP: the configuration file again, checked as a whole on the worker pool, then applied to new
// sessions. Log files are reopened (logrotate). A broken configuration changes nothing.
Task<std::optional<std::string>> reload_configuration(session::Services& services,
                                                      runtime::BlockingPool& blocking) {
  notify_reloading();
  const auto current = services.snapshot();
  spdlog::info("reloading the configuration from {}", current.config->source.string());
  const auto failed = [](const std::string& why) {
    spdlog::error("configuration reload failed, keeping the running configuration: {}", why);
    obs::count(obs::metrics().reloads_failed);
    notify_ready();
  };
  auto plan = co_await blocking.run([&] { return prepare_reload(current, services.overlay); });
  if (!plan) {
    failed(plan.error());
    co_return plan.error();
  }
  if (auto logging = obs::configure_logging(plan->next.config->log); !logging) {
    failed(logging.error());
    co_return logging.error();
  }
  for (const auto& w : plan->warnings) spdlog::warn("reload: {}", w);
  if (plan->tls_context) {
    services.tls->install(plan->next.config->served_tls(), plan->tls_context);
    spdlog::info("TLS certificate reloaded: {}", plan->tls_context->description());
  }
  const auto executor = co_await asio::this_coro::executor;
  for (std::size_t i = 0; i < plan->policies.size(); ++i) {
    const auto every = plan->next.domains[i]->config->passive.resolve_every;
    asio::co_spawn(executor, net::keep_resolved(plan->policies[i], blocking, every), asio::detached);
  }
  services.publish(std::move(plan->next));
  obs::count(obs::metrics().reloads_ok);
  spdlog::info("configuration reloaded: new sessions use it, running sessions keep theirs");
  notify_ready();
  co_return std::nullopt;
}

Task<void> watch_certificates(session::Services& services, runtime::BlockingPool& blocking, Duration every) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return;
    // The default's store (which also serves the domains' certificates by SNI), then each domain's own.
    const auto snapshot = services.snapshot();
    std::vector<std::shared_ptr<tls::ContextStore>> stores;
    for (const auto& d : snapshot.domains)
      if (d->tls && std::find(stores.begin(), stores.end(), d->tls) == stores.end()) stores.push_back(d->tls);
    for (const auto& store : stores) co_await reload_certificates(*store, blocking, true);
  }
}

}  // namespace ftpsd::app
