#include "app/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <set>
#include <vector>

#include "app/nat_lint.hpp"
#include "app/privileges.hpp"
#include "auth/user_store.hpp"
#include "config/names.hpp"
#include "net/ip_network.hpp"
#include "net/passive_host_resolver.hpp"
#include "net/proxy_reader.hpp"
#include "runtime/io_pool.hpp"
#include "runtime/timeout.hpp"
#include "session/session.hpp"
#include "sys/syscalls.hpp"
#include "util/limits.hpp"
#include "vfs/local_fs.hpp"

namespace ftpsd::app {
namespace {

using asio::ip::tcp;

constexpr std::string_view kTooManySessions = "421 Too many connections; try again later.\r\n";
constexpr std::string_view kTooManyFromAddress =
    "421 Too many connections from your address; try again later.\r\n";
constexpr std::string_view kBanned = "421 Your address is temporarily banned after failed logins.\r\n";
constexpr Duration kRefuseTimeout = std::chrono::seconds(5);

// A refusal before the session starts: one 421 line, then close. Always in clear and before any TLS
// handshake, on implicit-TLS listeners too: refusing costs no handshake (vsftpd and ProFTPD do the same).
Task<void> refuse(tcp::socket socket, std::string_view text) {
  co_await runtime::with_timeout(asio::async_write(socket, asio::buffer(text), kTuple), kRefuseTimeout);
  std::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

// The client's address: the socket's peer, or on a proxy_protocol listener the one its PROXY header
// names. nullopt: the header was refused (logged).
Task<std::optional<asio::ip::address>> client_address(tcp::socket& socket, session::Services& services,
                                                      const config::ListenerConfig& listener) {
  if (listener.proxy_protocol) {
    // The PROXY header comes before anything else, implicit TLS included.
    auto r = co_await net::proxied_client(socket, services.config->proxy_protocol.trusted);
    if (!r) {
      spdlog::warn("connection to {} refused: {}", listener.address, r.error());
      co_return std::nullopt;
    }
    co_return *r;
  }
  std::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) co_return std::nullopt;
  co_return net::unmap(ep.address());
}

// Over server.max_sessions (already counted down by the accept loop): on a proxied listener the
// header is read first, so that the log names the real client.
Task<void> refuse_busy(tcp::socket socket, session::Services& services, config::ListenerConfig listener) {
  const auto client = co_await client_address(socket, services, listener);
  if (!client) co_return;
  spdlog::warn("connection refused: client={} reason=server.max_sessions ({}) reached", client->to_string(),
               services.config->server.max_sessions);
  co_await refuse(std::move(socket), kTooManySessions);
}

// SECURITY: bans and server.max_sessions_per_ip, checked against the real client address before the
// greeting and before any TLS handshake. The lease holds the per-address slot for the whole session.
std::optional<net::KeyedCounter::Lease> admit(session::Services& services, const asio::ip::address& client,
                                              std::string_view& refusal) {
  const auto& cfg = *services.config;
  if (services.bans.banned_until(client, cfg.bans, net::Bans::Clock::now())) {
    services.refused_banned.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("connection refused: client={} reason=banned", client.to_string());
    refusal = kBanned;
    return std::nullopt;
  }
  auto lease = services.sessions_per_ip.try_acquire(client.to_string(), cfg.server.max_sessions_per_ip);
  if (!lease) {
    services.refused_per_ip.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("connection refused: client={} reason=server.max_sessions_per_ip ({}) reached",
                 client.to_string(), cfg.server.max_sessions_per_ip);
    refusal = kTooManyFromAddress;
  }
  return lease;
}

// `services.sessions` was counted up by the accept loop for this session.
Task<void> session_entry(tcp::socket socket, session::Services& services, config::ListenerConfig listener) {
  if (const auto client = co_await client_address(socket, services, listener)) {
    std::string_view refusal;
    if (auto lease = admit(services, *client, refusal)) {
      std::optional<asio::ip::address> proxied;
      if (listener.proxy_protocol) proxied = *client;
      co_await session::run_session(std::move(socket), services, std::move(listener), proxied);
    } else {
      co_await refuse(std::move(socket), refusal);
    }
  }
  services.sessions.fetch_sub(1, std::memory_order_relaxed);
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
    // Counted here, before the session starts on its event loop: a burst of connections cannot all
    // pass the check before the first session has counted itself.
    if (services.sessions.fetch_add(1, std::memory_order_relaxed) >= services.config->server.max_sessions) {
      services.sessions.fetch_sub(1, std::memory_order_relaxed);
      services.refused_max_sessions.fetch_add(1, std::memory_order_relaxed);
      asio::co_spawn(ctx, refuse_busy(std::move(socket), services, listener), asio::detached);
      continue;
    }
    asio::co_spawn(ctx, session_entry(std::move(socket), services, listener), asio::detached);
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

// Each session holds its control socket and its root directory handle; a transfer adds a passive
// listener, the data socket and the file. 10,000 sessions must fit: raise RLIMIT_NOFILE at start.
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

int run_server(std::shared_ptr<const config::Config> config, bool print_connect_help) {
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
  net::PassivePortPool ports(config->passive.ports);
  for (const auto& f : lint_nat(*config, net::resolve_ipv4))
    spdlog::log(f.severity == LintFinding::Severity::kError ? spdlog::level::err : spdlog::level::warn,
                "{}: {}", f.key, f.message);
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
  for (const auto& l : listeners) spdlog::info("listening on {} tls={}", l.address, config::name(l.tls));
  auto blocking = std::make_unique<runtime::BlockingPool>(config->server.blocking_threads);
  session::Services services{.config = config,
                             .users = users,
                             .passive_policy = passive_policy,
                             .blocking = *blocking,
                             .ports = ports,
                             .tls = tls_store.get()};
  asio::co_spawn(pool.first(), net::keep_resolved(*passive_policy, *blocking, config->passive.resolve_every),
                 asio::detached);
  asio::co_spawn(pool.first(), remove_stale_uploads(user_roots(*config, *users), *blocking, started),
                 asio::detached);
  for (std::size_t i = 0; i < acceptors.size(); ++i)
    asio::co_spawn(pool.first(), accept_loop(acceptors[i], pool, services, listeners[i]), asio::detached);
  if (tls_store && config->tls.reload_check.count() > 0)
    asio::co_spawn(pool.first(), watch_certificates(*tls_store, *blocking, config->tls.reload_check),
                   asio::detached);
  asio::signal_set hangup(pool.first(), SIGHUP);
  std::function<void()> on_hangup = [&] {
    hangup.async_wait([&](const std::error_code& ec, int) {
      if (ec) return;
      spdlog::info("SIGHUP received: reloading certificates");
      if (tls_store)
        asio::co_spawn(pool.first(), reload_certificates(*tls_store, *blocking, false), asio::detached);
      on_hangup();
    });
  };
  on_hangup();

  asio::signal_set signals(pool.first(), SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {} received: stopping", sig);
    for (auto& a : acceptors) a.close();
    pool.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);  // a file over RLIMIT_FSIZE: EFBIG (552) for that upload, not the end

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
        "Stop with Ctrl-C.\n\n",
        l.host, l.port, implicit ? implicit->port : 0);
  }
  pool.start();
  pool.join();
  // The workers go first: their queued completions hold executors of the event loops.
  blocking.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace ftpsd::app
