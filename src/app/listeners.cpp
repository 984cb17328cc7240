#include "app/listeners.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "inet/ip_network.hpp"
#include "net/proxy_reader.hpp"
#include "obs/metrics.hpp"
#include "protocol/reply.hpp"
#include "runtime/timeout.hpp"
#include "session/session.hpp"

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

}  // namespace

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

}  // namespace ftpsd::app
