#include "app/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "admin/admin_server.hpp"
#include "app/connect_help.hpp"
#include "app/domains.hpp"
#include "app/listeners.hpp"
#include "app/metrics_endpoint.hpp"
#include "app/privileges.hpp"
#include "app/reload.hpp"
#include "app/systemd.hpp"
#include "app/tasks.hpp"
#include "auth/user_store.hpp"
#include "cluster/account_database.hpp"
#include "cluster/audit_sync.hpp"
#include "cluster/ban_sync.hpp"
#include "cluster/directory.hpp"
#include "cluster/node_registry.hpp"
#include "cluster/shared_settings.hpp"
#include "config/names.hpp"
#include "net/passive_host_resolver.hpp"
#include "runtime/io_pool.hpp"
#include "sys/syscalls.hpp"
#include "tools/cluster_lb.hpp"
#include "tools/nat_lint.hpp"

namespace ftpsd::app {
namespace {

using asio::ip::tcp;

// Written beside and renamed into place: whoever reads server.pid_file (`ftpsd reload`, a test) finds
// no file or the whole process id, never an empty file.
void write_pid_file(const std::filesystem::path& file) {
  auto temporary = file;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << sys::process_id() << "\n";
    out.close();
    if (!out) {
      spdlog::error("cannot write server.pid_file {}", file.string());
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) spdlog::error("cannot write server.pid_file {}: {}", file.string(), ec.message());
}

// An idle session holds its control socket (root folder handles are shared: one per folder, see
// vfs::RootHandles); a transfer adds a passive listener or the data socket, and the file. 10,000
// sessions must fit: raise RLIMIT_NOFILE at start.
void raise_open_file_limit(std::size_t max_sessions) {
  constexpr std::uint64_t kPerSession = 4;
  constexpr std::uint64_t kReserved = 256;  // listeners, logs, epoll, eventfds, certificates, users
  const std::uint64_t wanted = kPerSession * max_sessions + kReserved;
  const auto lim = sys::raise_open_file_limit(wanted);
  if (!lim) {
    spdlog::warn("cannot raise the open-file limit (RLIMIT_NOFILE): {}", lim.error().message());
    return;
  }
  spdlog::info("open-file limit (RLIMIT_NOFILE): {} (was {}, hard limit {})", lim->soft, lim->soft_before,
               lim->hard);
  if (lim->soft < wanted)
    spdlog::warn(
        "open-file limit {} is below the {} that server.max_sessions = {} can need ({} per session with a "
        "transfer running): raise the hard limit (systemd LimitNOFILE=, ulimit -Hn) or lower "
        "server.max_sessions",
        lim->soft, wanted, max_sessions, kPerSession);
}

// What start-up reads before anything is bound: the certificates, and each domain's users (with its
// passive address looked up once). nullopt: logged why not.
struct StartFiles {
  std::shared_ptr<tls::ContextStore> tls;  // the default's (and SNI's); null without a certificate
  BuiltDomains domains;
};

std::optional<StartFiles> load_start_files(const std::shared_ptr<const config::Config>& config) {
  StartFiles files;
  if (config->tls.configured()) {
    files.tls = std::make_shared<tls::ContextStore>(config->served_tls());
    if (auto loaded = files.tls->reload(); !loaded) {
      spdlog::critical("TLS: {}", loaded.error());
      return std::nullopt;
    }
    spdlog::info("TLS certificate: {}", files.tls->current()->description());
  }
  auto built = build_domains(config, files.tls, nullptr);
  if (!built) {
    spdlog::critical("{}", built.error());
    return std::nullopt;
  }
  files.domains = std::move(*built);
  for (const auto& d : files.domains.domains) {
    if (d->name == "default") continue;
    spdlog::info("domain {}: hosts {}, passive ports {}{}", d->name,
                 d->hosts.empty() ? "-" : fmt::format("{}", fmt::join(d->hosts, ",")),
                 d->ports == files.domains.domains.front()->ports ? "of the default" : "of its own",
                 d->tls && d->tls != files.tls ? ", certificate " + d->tls->current()->description() : "");
  }
  return files;
}

// The database of [cluster], connected and migrated, and its password; an unreachable database is not
// an error (logins retry it), a password file that cannot be read or a schema newer than this binary
// are.
struct ClusterStart {
  std::shared_ptr<cluster::DatabaseDirectory> directory;
  std::string password;  // for the node registry's and the shared bans' connections
};

Result<ClusterStart, std::string> start_cluster(const config::ClusterConfig& c) {
  auto password = cluster::cluster_password(c);
  if (!password) return Unexpected{password.error()};
  auto directory = std::make_shared<cluster::DatabaseDirectory>(c, *password);
  if (auto started = directory->start(); !started) return Unexpected{started.error()};
  spdlog::info("cluster: node {}; users are checked in the database (cache_ttl {})", c.node,
               format_duration(c.cache_ttl));
  return ClusterStart{.directory = std::move(directory), .password = std::move(*password)};
}

// What this node tells the other nodes about itself: its listeners as bound, its passive address and
// ports.
cluster::NodeFacts node_facts(const config::Config& config,
                              const std::vector<config::ListenerConfig>& bound) {
  cluster::NodeFacts facts{.version = FTPSD_VERSION, .listeners = {}, .passive = {}};
  for (const auto& l : bound) {
    if (!facts.listeners.empty()) facts.listeners += ", ";
    facts.listeners += l.address;
    if (l.tls != config::TlsMode::kNone) facts.listeners += fmt::format(" ({} TLS)", config::name(l.tls));
  }
  const auto& p = config.passive;
  facts.passive = p.address.empty() ? "the control connection's address" : p.address;
  if (p.ports) facts.passive += fmt::format(", ports {}-{}", p.ports->first, p.ports->last);
  if (p.advertised_ports)
    facts.passive += fmt::format(" (advertised {}-{})", p.advertised_ports->first, p.advertised_ports->last);
  facts.plan = tools::plan_json(tools::node_plan(config, bound));
  return facts;
}

// The node's entry in the cluster (started past the server's early returns): its heartbeat publishes the
// live sessions, ends those another node's Manager ends, and moves the session ids into this node's share.
std::unique_ptr<cluster::NodeRegistry> make_node(const config::Config& config, const std::string& password,
                                                 const std::vector<config::ListenerConfig>& bound,
                                                 session::Services& services) {
  cluster::NodeHooks hooks{
      .sessions_json = [&services] { return admin::session_list_json(services.registry); },
      .end_session = [&services](std::uint64_t id) { (void)services.registry.end(id); },
      .session_ids =
          [&services](std::uint64_t first) {
            auto next = services.next_session_id.load();
            while (next <= first && !services.next_session_id.compare_exchange_weak(next, first + next)) {
            }
          }};
  return std::make_unique<cluster::NodeRegistry>(*config.cluster, password, node_facts(config, bound),
                                                 std::move(hooks));
}

// [cluster]: the Manager's audit log (admin::AuditShare) kept in the database by cluster::AuditSync.
class SharedAudit final : public admin::AuditShare {
 public:
  explicit SharedAudit(std::shared_ptr<cluster::AuditSync> sync) : sync_(std::move(sync)) {}

  void add(const admin::json& entry) override {
    const auto text = [&entry](const char* key) {
      const auto it = entry.find(key);
      return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    sync_->add(cluster::AuditRecord{.time = text("time"),
                                    .node = {},
                                    .who = text("who"),
                                    .address = text("address"),
                                    .action = text("action"),
                                    .target = text("target"),
                                    .diff = text("diff")});
  }

  Result<admin::json, std::string> recent(std::size_t limit) override {
    auto records = sync_->recent(limit);
    if (!records) return Unexpected{records.error()};
    admin::json out = admin::json::array();
    for (const auto& r : *records)
      out.push_back(admin::json{{"time", r.time},
                                {"who", r.who},
                                {"address", r.address},
                                {"action", r.action},
                                {"target", r.target},
                                {"diff", r.diff},
                                {"node", r.node}});
    return out;
  }

 private:
  std::shared_ptr<cluster::AuditSync> sync_;
};

// The NAT set-up's findings (`ftpsd check-config` shows the same) go to the log at every start.
void log_nat_findings(const config::Config& config) {
  for (const auto& f : tools::lint_nat(config, net::resolve_ipv4, tools::LintStage::kStart))
    spdlog::log(f.severity == tools::LintFinding::Severity::kError ? spdlog::level::err : spdlog::level::warn,
                "{}: {}: {}", tools::location(config, f), f.key, f.message);
}

// Every listener bound (port 0 replaced by the port it got). nullopt: one could not be (logged).
std::optional<std::vector<tcp::acceptor>> bind_all(asio::io_context& ctx,
                                                   std::vector<config::ListenerConfig>& listeners) {
  std::vector<tcp::acceptor> acceptors;
  for (auto& l : listeners) {
    auto a = bind_listener(ctx, l);
    if (!a) return std::nullopt;
    acceptors.push_back(std::move(*a));
  }
  return acceptors;
}

// SIGHUP reloads the configuration, one reload at a time (signals meanwhile are kept by Asio). SIGINT
// and SIGTERM stop gracefully: the listeners close, running transfers may finish within
// server.shutdown_timeout; a second one stops at once.
// The Manager's reload: run on the first event loop as SIGHUP's is, awaited from the Manager's thread.
// A reload that cannot finish (the loops stopped meanwhile) gives up after a bound.
std::optional<std::string> reload_for_manager(runtime::IoPool& pool, session::Services& services,
                                              runtime::BlockingPool& blocking) {
  auto done = std::make_shared<std::promise<std::optional<std::string>>>();
  auto outcome = done->get_future();
  asio::co_spawn(
      pool.first(), reload_configuration(services, blocking),
      [done](const std::exception_ptr& e, std::optional<std::string> error) {
        done->set_value(e ? std::optional<std::string>("the reload failed unexpectedly") : std::move(error));
      });
  if (outcome.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
    return "the reload did not finish within 30 s (is the server stopping?)";
  return outcome.get();
}

class Signals {
 public:
  Signals(runtime::IoPool& pool, session::Services& services, runtime::BlockingPool& blocking,
          std::vector<tcp::acceptor>& acceptors)
      : pool_(pool),
        services_(services),
        blocking_(blocking),
        acceptors_(acceptors),
        hangup_(pool.first(), SIGHUP),
        stop_(pool.first(), SIGINT, SIGTERM) {}

  void listen() {
    wait_hangup();
    wait_stop();
  }

 private:
  void wait_hangup() {
    hangup_.async_wait([this](const std::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP received");
      asio::co_spawn(pool_.first(), reload_configuration(services_, blocking_),
                     [this](const std::exception_ptr&, const std::optional<std::string>&) { wait_hangup(); });
    });
  }

  void wait_stop() {
    stop_.async_wait([this](const std::error_code& ec, int sig) {
      if (ec) return;
      if (services_.stopping.load()) {
        spdlog::info("signal {} received again: stopping now", sig);
        pool_.stop();
        return;
      }
      const auto timeout = services_.snapshot().config->server.shutdown_timeout;
      spdlog::info("signal {} received: stopping; running transfers may finish within {}s", sig,
                   std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
      notify_stopping();
      for (auto& a : acceptors_) a.close();
      hangup_.cancel();
      asio::co_spawn(pool_.first(), graceful_stop(services_, pool_, timeout), asio::detached);
      wait_stop();
    });
  }

  runtime::IoPool& pool_;
  session::Services& services_;
  runtime::BlockingPool& blocking_;
  std::vector<tcp::acceptor>& acceptors_;
  asio::signal_set hangup_;
  asio::signal_set stop_;
};

// [cluster]: the settings the nodes share, read once and laid over the file's before anything uses them
// (README "Shared settings"). An unreachable database leaves the file's (logged); the thread applies the
// shared ones when it reads them. Error: cluster.password_file cannot be read.
Result<std::unique_ptr<cluster::SharedSettings>, std::string> load_shared_settings(
    std::shared_ptr<const config::Config>& config) {
  auto password = cluster::cluster_password(*config->cluster);
  if (!password) return Unexpected{password.error()};
  auto shared = std::make_unique<cluster::SharedSettings>(*config->cluster, std::move(*password));
  if (shared->load()) {
    auto overlaid = std::make_shared<config::Config>(*config);
    shared->apply(*overlaid);
    config = std::move(overlaid);
  }
  return shared;
}

}  // namespace

int run_server(const std::shared_ptr<const config::Config>& file_config, bool print_connect_help) {
  auto config = file_config;
  std::unique_ptr<cluster::SharedSettings> shared;  // [cluster]; lives longer than the Manager
  if (config->cluster) {
    auto loaded = load_shared_settings(config);
    if (!loaded) {
      spdlog::critical("{}", loaded.error());
      return 1;
    }
    shared = std::move(*loaded);
  }
  raise_open_file_limit(config->server.max_sessions);
  // Upload temporaries of this run are created (and written) after this second.
  const std::int64_t started =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto files = load_start_files(config);
  if (!files) return 1;
  log_nat_findings(*config);
  // The services are built below, but live longer than the event loops: sessions that a second signal
  // cut short are destroyed with the loops, and they still use the services as they go (their entry in
  // the registry, their place under the session limits, the stop notice).
  std::optional<session::Services> services_storage;
  runtime::IoPool pool(config->server.threads);
  std::vector<config::ListenerConfig> listeners = config->listeners;
  auto acceptors = bind_all(pool.first(), listeners);
  if (!acceptors) return 1;
  // The Manager reads its admins file and the certificate and binds its port now, as the listeners do.
  std::unique_ptr<cluster::NodeRegistry> node;         // before the Manager, which uses it: gone after it
  std::unique_ptr<cluster::AccountDatabase> accounts;  // the same
  std::unique_ptr<admin::AdminServer> manager;
  if (config->admin.enabled()) {
    auto prepared = admin::AdminServer::prepare(*config);
    if (!prepared) {
      spdlog::critical("{}", prepared.error());
      return 1;
    }
    manager = std::move(*prepared);
  }
  // [cluster]: its password is read and the schema brought up to date before privileges are dropped.
  std::optional<ClusterStart> cluster;
  if (config->cluster) {
    auto prepared = start_cluster(*config->cluster);
    if (!prepared) {
      spdlog::critical("{}", prepared.error());
      return 1;
    }
    cluster = std::move(*prepared);
  }
  // SECURITY: the ports are bound and the keys and users read; no thread runs yet and no client was
  // served. From here on ftpsd runs as server.user (README "Security").
  if (auto refused = drop_privileges(*config)) {
    spdlog::critical("{}", *refused);
    return 1;
  }
  auto blocking = std::make_unique<runtime::BlockingPool>(config->server.blocking_threads);
  session::Services& services = services_storage.emplace(
      session::Snapshot{.config = config, .domains = files->domains.domains}, *blocking, files->tls.get());
  for (std::size_t i = 0; i < pool.size(); ++i) services.stop_notice.add(pool.at(i));
  // [cluster]: the bans made and lifted here go to the database from now on (what the Manager does
  // before the start below waits in the queue). The thread starts past the early returns and stops
  // (writing what waits) after the loops, while net::Bans is still there.
  std::shared_ptr<cluster::BanSync> ban_sync;
  std::shared_ptr<cluster::AuditSync> audit_sync;  // its thread starts with the Manager
  if (cluster) {
    services.directory = cluster->directory;
    services.overlay = [s = shared.get()](config::Config& c) { s->apply(c); };
    node = make_node(*config, cluster->password, listeners, services);
    accounts = std::make_unique<cluster::AccountDatabase>(*config->cluster, cluster->password);
    ban_sync = std::make_shared<cluster::BanSync>(*config->cluster, cluster->password, services.bans);
    services.bans.share(ban_sync, config->cluster->node);
    if (manager) audit_sync = std::make_shared<cluster::AuditSync>(*config->cluster, cluster->password);
  }
  std::unique_ptr<MetricsEndpoint> metrics;
  if (!config->metrics.address.empty()) {
    auto endpoint = MetricsEndpoint::start(config->metrics.address, services);
    if (!endpoint) {
      spdlog::critical("{}", endpoint.error());
      return 1;
    }
    metrics = std::move(*endpoint);
    spdlog::info("metrics on {}", metrics->url());
  }
  if (manager) {
    if (audit_sync) audit_sync->start();
    manager->start(services,
                   admin::Hooks{.reload = [&] { return reload_for_manager(pool, services, *blocking); },
                                .listeners = listeners,
                                .nodes = node.get(),
                                .accounts = accounts.get(),
                                .audit = audit_sync ? std::make_shared<SharedAudit>(audit_sync) : nullptr,
                                .shared = shared.get()});
    spdlog::info("admin on {}", manager->url());
  }
  for (std::size_t i = 0; i < files->domains.policies.size(); ++i) {
    const auto every = files->domains.domains[i]->config->passive.resolve_every;
    asio::co_spawn(pool.first(), net::keep_resolved(files->domains.policies[i], *blocking, every),
                   asio::detached);
  }
  // The snapshot owns the policies; each resolver stops when no snapshot has its policy any more.
  files->domains.policies.clear();
  asio::co_spawn(pool.first(), remove_stale_uploads(user_roots(files->domains.domains), *blocking, started),
                 asio::detached);
  for (std::size_t i = 0; i < acceptors->size(); ++i)
    asio::co_spawn(pool.first(), accept_loop((*acceptors)[i], pool, services, listeners[i]), asio::detached);
  if (config->tls.reload_check.count() > 0)
    asio::co_spawn(pool.first(), watch_certificates(services, *blocking, config->tls.reload_check),
                   asio::detached);
  if (const auto interval = watchdog_interval()) {
    spdlog::info("systemd watchdog: WATCHDOG=1 every {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2).count());
    asio::co_spawn(pool.first(), feed_watchdog(pool, *interval), asio::detached);
  }
  Signals signals(pool, services, *blocking, *acceptors);
  signals.listen();
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);  // a file over RLIMIT_FSIZE: EFBIG (552) for that upload, not the end
  if (!config->server.pid_file.empty()) write_pid_file(config->server.pid_file);
  // Said once SIGHUP, SIGINT and SIGTERM are ours and the pid file is written: whoever waits for this
  // line may signal at once, or run `ftpsd reload`. A node of a cluster is registered by then.
  if (node) node->start();
  // A change of the shared settings (through any node's Manager) is applied by the normal reload path.
  if (shared)
    shared->start([&pool, &services, &blocking] {
      if (services.stopping.load()) return;
      spdlog::info("cluster: the shared settings changed; reloading the configuration");
      asio::co_spawn(pool.first(), reload_configuration(services, *blocking), asio::detached);
    });
  for (const auto& l : listeners) spdlog::info("listening on {} tls={}", l.address, config::name(l.tls));
  if (print_connect_help)
    app::print_connect_help(listeners, manager ? manager->url() : std::string(), config->source);
  if (ban_sync) ban_sync->start();  // the shared bans in force, read before the loops accept anyone
  pool.start();
  notify_ready();
  pool.join();
  if (shared) shared->stop();  // no reload is started any more
  if (node) node->stop();      // the other nodes' lists drop this one's sessions at once
  if (ban_sync) {
    services.bans.share(nullptr, {});
    ban_sync->stop();
  }
  if (audit_sync) audit_sync->stop();  // writes what waits, if the database is there
  // The workers go first: their queued completions hold executors of the event loops.
  blocking.reset();
  if (!config->server.pid_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(config->server.pid_file, ec);
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace ftpsd::app
