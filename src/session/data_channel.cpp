#include "session/data_channel.hpp"

#include <spdlog/spdlog.h>

#include "runtime/timeout.hpp"

namespace ftpsd::session {

asio::ip::address normalize(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

DataChannel::DataChannel(asio::any_io_executor executor, net::PassivePortPool& ports,
                         asio::ip::address control_peer, asio::ip::address control_local)
    : executor_(std::move(executor)),
      ports_(ports),
      control_peer_(normalize(control_peer)),
      control_local_(control_local) {}

Result<std::uint16_t, DataError> DataChannel::listen_passive() {
  reset();
  // A port busy in the OS (another program, a socket in TIME_WAIT bound without reuse) is skipped;
  // bounded so that a range full of foreign listeners cannot make us spin.
  const std::size_t attempts = ports_.ranged() ? std::min<std::size_t>(ports_.capacity(), 64) : 1;
  for (std::size_t i = 0; i < attempts; ++i) {
    auto port = ports_.acquire();
    if (!port) return Unexpected{DataError::kNoPassivePort};
    net::PortLease lease(&ports_, *port);
    tcp::acceptor acceptor(executor_);
    std::error_code ec;
    const tcp::endpoint ep(control_local_, *port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(1, ec);
    if (ec) continue;  // the lease returns the port
    const auto bound = acceptor.local_endpoint(ec).port();
    acceptor_.emplace(std::move(acceptor));
    lease_ = std::move(lease);
    return bound;
  }
  return Unexpected{DataError::kBindFailed};
}

void DataChannel::set_active(tcp::endpoint target) {
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
  if (acceptor_) co_return co_await accept(timeout);
  if (active_target_) co_return co_await connect(timeout);
  co_return Unexpected{DataError::kNotPrepared};
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
    std::error_code pec;
    const auto peer = socket.remote_endpoint(pec);
    // SECURITY: only the control peer may use the data port (no port theft, no FXP).
    if (pec || normalize(peer.address()) != control_peer_) {
      ++foreign_refused_;
      spdlog::warn("data connection from {} refused: the control connection comes from {}",
                   pec ? "? (" + pec.message() + ")" : peer.address().to_string(), control_peer_.to_string());
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
    connecting_->set_option(tcp::socket::reuse_address(true), ec);
    connecting_->bind(tcp::endpoint(control_local_, 0), ec);
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
