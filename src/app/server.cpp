#include "app/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <vector>

#include "app/metrics_endpoint.hpp"
#include "app/privileges.hpp"
#include "app/reload.hpp"
#include "app/systemd.hpp"
#include "auth/user_store.hpp"
#include "config/names.hpp"
#include "inet/ip_network.hpp"
#include "net/passive_host_resolver.hpp"
#include "net/proxy_reader.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "protocol/reply.hpp"
#include "runtime/io_pool.hpp"
#include "runtime/timeout.hpp"
#include "session/session.hpp"
#include "sys/syscalls.hpp"
#include "tools/nat_lint.hpp"
#include "util/limits.hpp"
#include "vfs/local_fs.hpp"

namespace ftpsd::app {
namespace {

using asio::ip::tcp;

using protocol::Reply;
using protocol::ReplyCode;

// The refusals before a session starts.
enum class Refusal : std::uint8_t { kTooManySessions, kTooManyFromAddress, kBanned };

Reply refusal_reply(Refusal r) {
  switch (r) {
    case Refusal::kTooManySessions:
      return {ReplyCode::kServiceUnavailable, "Too many connections; try again later."};
    case Refusal::kTooManyFromAddress:
      return {ReplyCode::kServiceUnavailable, "Too many connections from your address; try again later."};
    case Refusal::kBanned:
      break;
  }
  return {ReplyCode::kServiceUnavailable, "Your address is temporarily banned after failed logins."};
}
constexpr Duration kRefuseTimeout = std::chrono::seconds(5);

// A refusal before the session starts: one 421 line, then close. Always in clear and before any TLS
// handshake, on implicit-TLS listeners too: refusing costs no handshake (vsftpd and ProFTPD do the same).
Task<void> refuse(tcp::socket socket, Refusal why) {
  const std::string text = protocol::serialize(refusal_reply(why));
  co_await runtime::with_timeout(asio::async_write(socket, asio::buffer(text), kTuple), kRefuseTimeout);
  std::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

// The client's address: the socket's peer, or on a proxy_protocol listener the one its PROXY header
// names. nullopt: the header was refused (logged).
Task<std::optional<asio::ip::address>> client_address(tcp::socket& socket, const config::Config& cfg,
                                                      const config::ListenerConfig& listener) {
  if (listener.proxy_protocol) {
    // The PROXY header comes before anything else, implicit TLS included.
    auto r = co_await net::proxied_client(socket, cfg.proxy_protocol.trusted);
    if (!r) {
      spdlog::warn("connection to {} refused: {}", listener.address, r.error());
      co_return std::nullopt;
    }
    co_return *r;
  }
  std::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) co_return std::nullopt;
  co_return inet::unmap(ep.address());
}

// Over server.max_sessions (already counted down by the accept loop): on a proxied listener the
// header is read first, so that the log names the real client.
Task<void> refuse_busy(tcp::socket socket, std::shared_ptr<const config::Config> cfg,
                       config::ListenerConfig listener) {
  const auto client = co_await client_address(socket, *cfg, listener);
  if (!client) co_return;
  spdlog::warn("connection refused: client={} reason=server.max_sessions ({}) reached", client->to_string(),
               cfg->server.max_sessions);
  co_await refuse(std::move(socket), Refusal::kTooManySessions);
}

// SECURITY: bans and server.max_sessions_per_ip, checked against the real client address before the
// greeting and before any TLS handshake. The lease holds the per-address slot for the whole session.
std::optional<net::KeyedCounter::Lease> admit(session::Services& services, const config::Config& cfg,
                                              const asio::ip::address& client, Refusal& refusal) {
  if (services.bans.banned_until(client, cfg.bans, net::Bans::Clock::now())) {
    obs::count(obs::metrics().refused_banned);
    spdlog::info("connection refused: client={} reason=banned", client.to_string());
    refusal = Refusal::kBanned;
    return std::nullopt;
  }
  auto lease = services.sessions_per_ip.try_acquire(client.to_string(), cfg.server.max_sessions_per_ip);
  if (!lease) {
    obs::count(obs::metrics().refused_per_ip);
    spdlog::warn("connection refused: client={} reason=server.max_sessions_per_ip ({}) reached",
                 client.to_string(), cfg.server.max_sessions_per_ip);
    refusal = Refusal::kTooManyFromAddress;
  }
  return lease;
}

// `services.sessions` was counted up by the accept loop for this connection; the Admission counts it
// down again when the session (or this coroutine, for a refused connection) is over.
Task<void> session_entry(tcp::socket socket, session::Services& services, session::Snapshot snapshot,
                         config::ListenerConfig listener) {
  session::Admission admission(services.sessions);
  const auto cfg = snapshot.config;
  const auto client = co_await client_address(socket, *cfg, listener);
  if (!client) co_return;
  Refusal refusal = Refusal::kTooManyFromAddress;
  auto lease = admit(services, *cfg, *client, refusal);
  if (!lease) {
    co_await refuse(std::move(socket), refusal);
    co_return;
  }
  admission.per_ip = std::move(*lease);
  std::optional<asio::ip::address> proxied;
  if (listener.proxy_protocol) proxied = *client;
  session::start_session(std::move(socket), services, std::move(snapshot), listener, std::move(admission),
                         proxied);
}

Task<void> accept_loop(tcp::acceptor& acceptor, runtime::IoPool& pool, session::Services& services,
                       config::ListenerConfig listener) {
  for (;;) {
    auto& ctx = pool.next();
    auto [ec, socket] = co_await acceptor.async_accept(ctx, kTuple);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: do not spin, do not die.
      spdlog::warn("accept on {} failed: {}", listener.address, ec.message());
      asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await t.async_wait(kTuple);
      continue;
    }
    // The session runs with the configuration current now, to its end (a reload does not change it).
    auto snapshot = services.snapshot();
    const auto max_sessions = snapshot.config->server.max_sessions;
    // Counted here, before the session starts on its event loop: a burst of connections cannot all
    // pass the check before the first session has counted itself.
    if (services.sessions.fetch_add(1, std::memory_order_relaxed) >= max_sessions) {
      services.sessions.fetch_sub(1, std::memory_order_relaxed);
      obs::count(obs::metrics().sessions_refused);
      asio::co_spawn(ctx, refuse_busy(std::move(socket), snapshot.config, listener), asio::detached);
      continue;
    }
    asio::co_spawn(ctx, session_entry(std::move(socket), services, std::move(snapshot), listener),
                   asio::detached);
  }
}

std::optional<tcp::acceptor> bind_listener(asio::io_context& ctx, config::ListenerConfig& l) {
  std::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address(l.host, ec), l.port);
  tcp::acceptor acceptor(ctx);
  if (!ec) acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && ep.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::critical("cannot listen on {}: {}", l.address, ec.message());
    return std::nullopt;
  }
  l.port = acceptor.local_endpoint(ec).port();
  l.address =
      ep.address().is_v6() ? fmt::format("[{}]:{}", l.host, l.port) : fmt::format("{}:{}", l.host, l.port);
  return acceptor;
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

Task<void> watch_certificates(tls::ContextStore& store, runtime::BlockingPool& blocking, Duration every) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return;
    co_await reload_certificates(store, blocking, true);
  }
}

// At start: upload temporaries older than this start are left from a crash or a kill (an upload that
// ends in any other way removes its own). Removed in the background, on one worker, one root after
// the other, bounded; the count is logged.
Task<void> remove_stale_uploads(std::vector<std::filesystem::path> roots, runtime::BlockingPool& blocking,
                                std::int64_t started) {
  const auto t0 = std::chrono::steady_clock::now();
  vfs::StaleCleanup total;
  for (const auto& root : roots) {
    const auto r = co_await blocking.run([&] {
      auto fs = vfs::LocalFs::open(root.string());
      return fs ? (*fs)->remove_stale_uploads(started, limits::kMaxStaleScanEntries) : vfs::StaleCleanup{};
    });
    total.removed += r.removed;
    total.visited += r.visited;
    if (r.truncated) {
      spdlog::warn("stale upload clean-up: stopped after {} entries under {}", limits::kMaxStaleScanEntries,
                   root.string());
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("stale upload clean-up: removed {} temporaries under {} roots ({} entries, {}ms)",
               total.removed, roots.size(), total.visited, ms);
}

std::vector<std::filesystem::path> user_roots(const config::Config& config, const auth::UserStore& users) {
  std::set<std::filesystem::path> roots;
  for (const auto& [name, user] : users.all()) roots.insert(user.root.lexically_normal());
  if (config.users.anonymous) roots.insert(config.users.anonymous_root.lexically_normal());
  return {roots.begin(), roots.end()};
}

// SIGHUP: the configuration file again, checked as a whole on the worker pool, then applied to new
// sessions. Log files are reopened (logrotate). A broken configuration changes nothing.
Task<void> reload(session::Services& services, runtime::BlockingPool& blocking) {
  notify_reloading();
  const auto current = services.snapshot();
  spdlog::info("reloading the configuration from {}", current.config->source.string());
  const auto failed = [](const std::string& why) {
    spdlog::error("configuration reload failed, keeping the running configuration: {}", why);
    obs::count(obs::metrics().reloads_failed);
    notify_ready();
  };
  auto plan = co_await blocking.run([&] { return prepare_reload(current, services.tls); });
  if (!plan) {
    failed(plan.error());
    co_return;
  }
  if (auto logging = obs::configure_logging(plan->next.config->log); !logging) {
    failed(logging.error());
    co_return;
  }
  for (const auto& w : plan->warnings) spdlog::warn("reload: {}", w);
  if (plan->tls_context) {
    services.tls->install(plan->next.config->tls, plan->tls_context);
    spdlog::info("TLS certificate reloaded: {}", plan->tls_context->description());
  }
  const auto every = plan->next.config->passive.resolve_every;
  asio::co_spawn(co_await asio::this_coro::executor, net::keep_resolved(plan->policy, blocking, every),
                 asio::detached);
  services.publish(std::move(plan->next));
  obs::count(obs::metrics().reloads_ok);
  spdlog::info("configuration reloaded: new sessions use it, running sessions keep theirs");
  notify_ready();
}

// systemd's watchdog: WATCHDOG=1 every half interval as long as every event loop has run a handler
// within the interval. A loop that hangs (a bug, a blocking call) stops the pings, and systemd kills and
// restarts ftpsd (Restart=on-failure). The worker pool is not watched: a slow disk is no reason to die.
Task<void> feed_watchdog(runtime::IoPool& pool, std::chrono::microseconds interval) {
  using Clock = std::chrono::steady_clock;
  const auto n = pool.size();
  // When each loop last ran the probe; shared with the probes still queued.
  auto seen = std::make_shared<std::vector<std::atomic<Clock::time_point>>>(n);
  for (auto& s : *seen) s = Clock::now();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto now = Clock::now();
    bool alive = true;
    for (const auto& s : *seen) alive = alive && now - s.load() < interval;
    if (alive) notify_watchdog();
    for (std::size_t i = 0; i < n; ++i) asio::post(pool.at(i), [seen, i] { (*seen)[i] = Clock::now(); });
    timer.expires_after(interval / 2);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return;
  }
}

// SIGTERM, SIGINT: stop accepting, let running transfers finish until server.shutdown_timeout (the
// sessions' watchdogs close idle sessions with 421 and, at the deadline, abort what still runs), then
// stop the event loops once every session has ended.
Task<void> graceful_stop(session::Services& services, runtime::IoPool& pool, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  services.stop_deadline.store(deadline, std::memory_order_relaxed);
  services.stopping.store(true, std::memory_order_relaxed);
  services.stop_notice.notify();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A session's last 421 after the deadline takes up to a watchdog tick and a write.
  const auto hard_stop = deadline + std::chrono::seconds(5);
  while (services.sessions.load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < hard_stop) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(kTuple);
  }
  if (const auto left = services.sessions.load(std::memory_order_relaxed); left > 0)
    spdlog::warn("{} sessions still open after server.shutdown_timeout: closing them", left);
  pool.stop();
}

void write_pid_file(const std::filesystem::path& file) {
  std::ofstream out(file, std::ios::trunc);
  out << sys::process_id() << "\n";
  if (!out) spdlog::error("cannot write server.pid_file {}", file.string());
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

}  // namespace

int run_server(const std::shared_ptr<const config::Config>& config, bool print_connect_help) {
  raise_open_file_limit(config->server.max_sessions);
  // Upload temporaries of this run are created (and written) after this second.
  const std::int64_t started =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto users = std::make_shared<auth::UserStore>();
  if (!config->users.file.empty()) {
    auto loaded = auth::UserStore::load(config->users.file);
    if (!loaded) {
      spdlog::critical("{}", loaded.error().message);
      return 1;
    }
    *users = std::move(*loaded);
  }
  std::unique_ptr<tls::ContextStore> tls_store;
  if (config->tls.configured()) {
    tls_store = std::make_unique<tls::ContextStore>(config->tls);
    if (auto loaded = tls_store->reload(); !loaded) {
      spdlog::critical("TLS: {}", loaded.error());
      return 1;
    }
    spdlog::info("TLS certificate: {}", tls_store->current()->description());
  }
  for (const auto& f : tools::lint_nat(*config, net::resolve_ipv4, tools::LintStage::kStart))
    spdlog::log(f.severity == tools::LintFinding::Severity::kError ? spdlog::level::err : spdlog::level::warn,
                "{}: {}: {}", tools::location(*config, f), f.key, f.message);
  auto passive_policy = std::make_shared<net::PassiveAddressPolicy>(config->passive);
  net::resolve_now(*passive_policy);
  runtime::IoPool pool(config->server.threads);

  std::vector<tcp::acceptor> acceptors;
  std::vector<config::ListenerConfig> listeners = config->listeners;
  for (auto& l : listeners) {
    auto a = bind_listener(pool.first(), l);
    if (!a) return 1;
    acceptors.push_back(std::move(*a));
  }
  // SECURITY: the ports are bound and the keys and users read; no thread runs yet and no client was
  // served. From here on ftpsd runs as server.user (README "Security").
  if (auto refused = drop_privileges(*config)) {
    spdlog::critical("{}", *refused);
    return 1;
  }
  auto blocking = std::make_unique<runtime::BlockingPool>(config->server.blocking_threads);
  session::Services services(
      session::Snapshot{.config = config,
                        .users = users,
                        .passive_policy = passive_policy,
                        .ports = std::make_shared<net::PassivePortPool>(config->passive.ports)},
      *blocking, tls_store.get());
  for (std::size_t i = 0; i < pool.size(); ++i) services.stop_notice.add(pool.at(i));
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
  asio::co_spawn(pool.first(), net::keep_resolved(passive_policy, *blocking, config->passive.resolve_every),
                 asio::detached);
  asio::co_spawn(pool.first(), remove_stale_uploads(user_roots(*config, *users), *blocking, started),
                 asio::detached);
  passive_policy.reset();  // the snapshot owns it; the resolver stops when no snapshot has it any more
  for (std::size_t i = 0; i < acceptors.size(); ++i)
    asio::co_spawn(pool.first(), accept_loop(acceptors[i], pool, services, listeners[i]), asio::detached);
  if (tls_store && config->tls.reload_check.count() > 0)
    asio::co_spawn(pool.first(), watch_certificates(*tls_store, *blocking, config->tls.reload_check),
                   asio::detached);
  if (const auto interval = watchdog_interval()) {
    spdlog::info("systemd watchdog: WATCHDOG=1 every {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2).count());
    asio::co_spawn(pool.first(), feed_watchdog(pool, *interval), asio::detached);
  }
  asio::signal_set hangup(pool.first(), SIGHUP);
  std::function<void()> on_hangup = [&] {
    hangup.async_wait([&](const std::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP received");
      // The next SIGHUP is handled once this reload is done (signals meanwhile are kept by Asio).
      asio::co_spawn(pool.first(), reload(services, *blocking),
                     [&](const std::exception_ptr&) { on_hangup(); });
    });
  };
  on_hangup();

  asio::signal_set signals(pool.first(), SIGINT, SIGTERM);
  std::function<void()> on_stop = [&] {
    signals.async_wait([&](const std::error_code& ec, int sig) {
      if (ec) return;
      if (services.stopping.load()) {
        spdlog::info("signal {} received again: stopping now", sig);
        pool.stop();
        return;
      }
      const auto timeout = services.snapshot().config->server.shutdown_timeout;
      spdlog::info("signal {} received: stopping; running transfers may finish within {}s", sig,
                   std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
      notify_stopping();
      for (auto& a : acceptors) a.close();
      hangup.cancel();
      asio::co_spawn(pool.first(), graceful_stop(services, pool, timeout), asio::detached);
      on_stop();
    });
  };
  on_stop();
  // Said once SIGHUP, SIGINT and SIGTERM are ours: whoever waits for this line may signal at once.
  for (const auto& l : listeners) spdlog::info("listening on {} tls={}", l.address, config::name(l.tls));
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);  // a file over RLIMIT_FSIZE: EFBIG (552) for that upload, not the end
  if (!config->server.pid_file.empty()) write_pid_file(config->server.pid_file);

  if (print_connect_help) {
    const auto& l = listeners.front();
    const auto* implicit = listeners.size() > 1 ? &listeners[1] : nullptr;
    fmt::print(
        stderr,
        "\nftpsd is running with its embedded default configuration.\n"
        "  data folder: run/data    user: demo    password: demo    certificate: run/cert.pem (self-signed)\n"
        "  explicit FTPS on {0}:{1}, implicit FTPS on {0}:{2}\n"
        "  curl:      curl --ssl-reqd -k -u demo:demo ftp://{0}:{1}/\n"
        "             curl -k -u demo:demo ftps://{0}:{2}/\n"
        "  lftp:      lftp -e 'set ssl:verify-certificate no' -u demo,demo -p {1} {0}\n"
        "  FileZilla: host {0}, port {1}, \"Require explicit FTP over TLS\", user demo, password demo\n"
        "  Python:    ftplib.FTP_TLS does not resume the TLS session on data connections, which ftpsd\n"
        "             requires (tls.session_reuse = \"require\"; without it: 522); this subclass does:\n"
        "\n"
        "import ftplib, ssl\n"
        "\n"
        "class FTP_TLS(ftplib.FTP_TLS):\n"
        "    # Data connections resume the control connection's TLS session.\n"
        "    def ntransfercmd(self, cmd, rest=None):\n"
        "        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)\n"
        "        if self._prot_p:\n"
        "            conn = self.context.wrap_socket(conn, server_hostname=self.host,\n"
        "                                            session=self.sock.session)\n"
        "        return conn, size\n"
        "\n"
        "ctx = ssl.create_default_context()\n"
        "ctx.check_hostname = False\n"
        "ctx.verify_mode = ssl.CERT_NONE  # the self-signed certificate of make run\n"
        "ftp = FTP_TLS(context=ctx)\n"
        "ftp.connect(\"{0}\", {1})\n"
        "ftp.login(\"demo\", \"demo\")  # AUTH TLS first, then USER and PASS\n"
        "ftp.prot_p()               # encrypted data connections too\n"
        "print(ftp.nlst())\n"
        "ftp.retrlines(\"RETR README.txt\", print)\n"
        "ftp.quit()\n"
        "\n"
        "Stop with Ctrl-C.\n\n",
        l.host, l.port, implicit ? implicit->port : 0);
  }
  pool.start();
  notify_ready();
  pool.join();
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
