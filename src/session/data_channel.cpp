#include "session/data_channel.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

#include "net/proxy_reader.hpp"
#include "runtime/timeout.hpp"

namespace ftpsd::session {

asio::ip::address normalize(const asio::ip::address& a) {
  return inet::unmap(a);
}

DataChannelOptions DataChannelOptions::from(const config::Config& cfg,
                                            const config::ListenerConfig& listener) {
  return DataChannelOptions{.require_same_peer = cfg.passive.require_same_peer,
                            .active_source_port = cfg.active.source_port,
                            .wait_when_exhausted = cfg.passive.on_exhausted == config::OnExhausted::kWait,
                            .exhausted_wait = cfg.passive.exhausted_wait,
                            .proxy_protocol = listener.proxy_protocol,
                            .proxy_trusted = cfg.proxy_protocol.trusted};
}

DataFailure explain(DataError e, bool passive, const RefusedPeers& refused) {
  if (e == DataError::kTimeout && passive && refused.count > 0) {
    const std::string what = refused.count == 1 ? std::string("a connection")
                                                : fmt::format("{} connections, the last", refused.count);
    const std::string from =
        refused.last ? " from " + refused.last->to_string() : std::string(" with an unreadable PROXY header");
    return {fmt::format("the passive port refused {}{} (the control connection comes from {}) and no other "
                        "came before passive.connect_timeout",
                        what, from, refused.control_peer.to_string()),
            "if that was this client, something between it and the server changes its address (a load "
            "balancer, a Docker userland proxy, carrier-grade NAT with several addresses): use the PROXY "
            "protocol, publish the ports without a proxy, or as a last resort set passive.require_same_peer "
            "= false; otherwise another host tried to take this transfer"};
  }
  switch (e) {
    case DataError::kNoPassivePort:
      return {
          "every port of passive.ports is in use",
          "widen passive.ports (and the firewall's forwarded range with it), or set passive.on_exhausted = "
          "\"wait\""};
    case DataError::kBindFailed:
      return {"no port of passive.ports could be bound (used by another program?)",
              "check `ss -ltn` for listeners inside passive.ports and move the range"};
    case DataError::kNotPrepared:
      return {"the client sent no PASV, EPSV, PORT or EPRT", "a client bug; nothing to change on the server"};
    case DataError::kTimeout:
      if (passive)
        return {
            "nobody connected to the passive port before passive.connect_timeout",
            "the passive range is probably not forwarded or opened on the firewall (see `ftpsd firewall`), "
            "or the PASV address is wrong for this client (set passive.address to the public address)"};
      return {"the client's port did not answer before active.connect_timeout",
              "the client is behind a firewall or NAT that drops incoming connections: it should use passive "
              "mode"};
    case DataError::kConnectFailed:
      return {"the client refused the active-mode connection",
              "the client is behind a firewall or NAT: it should use passive mode"};
    case DataError::kAborted:
      return {"aborted (ABOR, or the session ended)", "none needed"};
  }
  return {"unknown", "none"};
}

DataChannel::DataChannel(asio::any_io_executor executor, net::PassivePortPool& ports,
                         const asio::ip::address& control_peer, asio::ip::address control_local,
                         DataChannelOptions options)
    : executor_(std::move(executor)),
      ports_(&ports),
      control_peer_(normalize(control_peer)),
      control_local_(std::move(control_local)),
      options_(std::move(options)) {}

Result<std::uint16_t, DataError> DataChannel::try_listen() {
  // A port busy in the OS (another program, a socket in TIME_WAIT bound without reuse) is skipped;
  // bounded so that a range full of foreign listeners cannot make us spin.
  const std::size_t attempts = ports_->ranged() ? std::min<std::size_t>(ports_->capacity(), 64) : 1;
  for (std::size_t i = 0; i < attempts; ++i) {
    auto port = ports_->acquire(control_peer_);
    if (!port) return Unexpected{DataError::kNoPassivePort};
    net::PortLease lease(ports_, *port);
    tcp::acceptor acceptor(executor_);
    std::error_code ec;
    const tcp::endpoint ep(control_local_, *port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(1, ec);
    if (ec) {
      spdlog::debug("passive port {} skipped: {}", *port, ec.message());
      continue;  // the lease returns the port
    }
    const auto bound = acceptor.local_endpoint(ec).port();
    acceptor_.emplace(std::move(acceptor));
    lease_ = std::move(lease);
    return bound;
  }
  return Unexpected{DataError::kBindFailed};
}

// Waits until the pool reports a release, or `limit`. True if woken (a port may be free again).
Task<bool> DataChannel::wait_for_port(Duration limit) {
  auto timer = std::make_shared<asio::steady_timer>(executor_, limit);
  const auto id =
      ports_->add_waiter([timer, ex = executor_] { asio::post(ex, [timer] { timer->cancel(); }); });
  auto [ec] = co_await timer->async_wait(kTuple);
  ports_->remove_waiter(id);
  co_return ec == asio::error::operation_aborted;
}

Task<Result<std::uint16_t, DataError>> DataChannel::listen_passive() {
  reset();
  auto r = try_listen();
  if (r || r.error() != DataError::kNoPassivePort) co_return r;
  spdlog::warn("passive port range exhausted ({} ports in use, {} exhaustions so far){}", ports_->in_use(),
               ports_->exhaustions(), options_.wait_when_exhausted ? ": waiting for a free port" : "");
  if (!options_.wait_when_exhausted) co_return r;
  const auto deadline = std::chrono::steady_clock::now() + options_.exhausted_wait;
  for (;;) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !co_await wait_for_port(left)) co_return r;
    r = try_listen();
    if (r || r.error() != DataError::kNoPassivePort) co_return r;
  }
}

void DataChannel::set_active(const tcp::endpoint& target) {
  reset();
  active_target_ = target;
}

void DataChannel::reset() noexcept {
  if (acceptor_) {
    std::error_code ignored;
    acceptor_->close(ignored);
  }
  acceptor_.reset();
  lease_.reset();
  active_target_.reset();
}

void DataChannel::abort() noexcept {
  std::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);  // the pending accept completes with operation_aborted
  if (connecting_) connecting_->close(ignored);
}

Task<Result<tls::Stream, DataError>> DataChannel::open(Duration timeout) {
  refused_ = RefusedPeers{.control_peer = control_peer_};
  if (acceptor_) co_return co_await accept(timeout);
  if (active_target_) co_return co_await connect(timeout);
  co_return Unexpected{DataError::kNotPrepared};
}

Task<std::optional<asio::ip::address>> DataChannel::data_peer(
    tcp::socket& socket, std::chrono::steady_clock::time_point deadline) const {
  std::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) co_return std::nullopt;
  const auto address = normalize(remote.address());
  if (!options_.proxy_protocol || !inet::any_contains(options_.proxy_trusted, address)) co_return address;
  // Through the same proxy as the control connection: the header names the real client.
  const auto left =
      std::min(std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now()),
               net::kProxyHeaderTimeout);
  auto header = co_await net::read_proxy_header(socket, left);
  if (!header) {
    spdlog::warn("data connection from proxy {} refused: {}", address.to_string(), header.error());
    co_return std::nullopt;
  }
  if (!header->source) co_return address;
  co_return normalize(asio::ip::make_address(header->source->address, ec));
}

Task<Result<tls::Stream, DataError>> DataChannel::accept(Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    // Not `cond ? co_await ... : ...`: GCC 12 destroys the awaited temporary in that form.
    std::optional<std::tuple<std::error_code, tcp::socket>> r;
    if (left.count() > 0) r = co_await runtime::with_timeout(acceptor_->async_accept(kTuple), left);
    if (!r) {
      reset();
      co_return Unexpected{DataError::kTimeout};
    }
    auto& [ec, socket] = *r;
    if (ec || !acceptor_->is_open()) {
      reset();
      co_return Unexpected{DataError::kAborted};
    }
    const auto peer = co_await data_peer(socket, deadline);
    if (!acceptor_ || !acceptor_->is_open()) {
      reset();
      co_return Unexpected{DataError::kAborted};
    }
    // SECURITY: only the control peer may use the data port (no port theft, no FXP).
    if (!peer || (options_.require_same_peer && *peer != control_peer_)) {
      ++refused_.count;
      refused_.last = peer;
      spdlog::warn(
          "data connection from {} refused: the control connection comes from {}. If this is the "
          "real client, something between it and us changes its address (a load balancer, a Docker "
          "userland proxy, carrier-grade NAT with several addresses): use the PROXY protocol, publish "
          "the ports without a proxy, or as a last resort set passive.require_same_peer = false",
          peer ? peer->to_string() : "?", control_peer_.to_string());
      if (peer && foreign_hook_) foreign_hook_(*peer);
      continue;  // the socket closes here; keep waiting for the real client
    }
    reset();
    co_return tls::Stream(std::move(socket));
  }
}

Task<Result<tls::Stream, DataError>> DataChannel::connect(Duration timeout) {
  const tcp::endpoint target = *active_target_;
  active_target_.reset();
  connecting_.emplace(executor_);
  std::error_code ec;
  connecting_->open(target.protocol(), ec);
  if (!ec && control_local_.is_v4() == target.address().is_v4()) {
    // A fixed source port (RFC 959's port L-1, 20) for firewalls that match on it; SO_REUSEADDR lets
    // several sessions connect from it at once (the address pairs differ).
    connecting_->set_option(tcp::socket::reuse_address(true), ec);
    if (!ec) connecting_->bind(tcp::endpoint(control_local_, options_.active_source_port), ec);
    if (ec && options_.active_source_port != 0)
      spdlog::warn(
          "active mode: cannot bind the source port {}: {} (binding a port below 1024 needs root or "
          "CAP_NET_BIND_SERVICE)",
          options_.active_source_port, ec.message());
  }
  if (ec) {
    connecting_.reset();
    co_return Unexpected{DataError::kConnectFailed};
  }
  auto r = co_await runtime::with_timeout(connecting_->async_connect(target, kTuple), timeout);
  tcp::socket socket = std::move(*connecting_);
  connecting_.reset();
  if (!r) co_return Unexpected{DataError::kTimeout};
  if (auto [cec] = *r; cec) {
    co_return Unexpected{cec == asio::error::operation_aborted ? DataError::kAborted
                                                               : DataError::kConnectFailed};
  }
  co_return tls::Stream(std::move(socket));
}

}  // namespace ftpsd::session
