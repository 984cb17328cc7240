#include "session/context.hpp"

#include <fmt/format.h>

namespace ftpsd::session {
namespace {

asio::ip::address endpoint_address(tls::Stream& s, bool remote) {
  std::error_code ec;
  const auto ep = remote ? s.socket().remote_endpoint(ec) : s.socket().local_endpoint(ec);
  return ec ? asio::ip::address() : normalize(ep.address());
}

}  // namespace

SessionContext::SessionContext(Services& svc, std::uint64_t session_id, tls::Stream stream,
                               const config::ListenerConfig& listener_cfg)
    : services(svc),
      config(svc.config),
      listener(listener_cfg),
      id(session_id),
      peer(endpoint_address(stream, true)),
      local(endpoint_address(stream, false)),
      control(std::move(stream)),
      data(control.stream().socket().get_executor(), svc.ports, peer, local),
      transfer_done_(control.stream().socket().get_executor()) {
  transfer_done_.expires_at(asio::steady_timer::time_point::max());
}

std::string SessionContext::tag() const {
  return fmt::format("s={} {} {}", id, peer.to_string(), state.user_name.empty() ? "-" : state.user_name);
}

Task<Result<tls::Stream, Reply>> SessionContext::open_data() {
  auto timeout = data.passive() ? config->passive.connect_timeout : config->active.connect_timeout;
  auto stream = co_await data.open(timeout);
  if (!stream) {
    spdlog::info("{} data connection failed: {}", tag(),
                 stream.error() == DataError::kTimeout && data.passive()
                     ? "nobody connected to the passive port in time (is the passive range forwarded?)"
                     : data_error_reply(stream.error()).lines.front());
    co_return Unexpected{data_error_reply(stream.error())};
  }
  co_return std::move(*stream);
}

Task<void> SessionContext::preliminary(const Reply& reply) {
  co_await control.send(reply);
  transfer_replied = true;
  transfer_done_.cancel();  // wakes wait_transfer_reply(); wait_transfer() goes on waiting
}

Task<void> SessionContext::wait_transfer_reply() {
  while (transfer_active && !transfer_replied) co_await transfer_done_.async_wait(kTuple);
}

void SessionContext::transfer_finished() {
  transfer_active = false;
  active_stream = nullptr;
  progress = {};
  transfer_done_.cancel();
}

Task<void> SessionContext::wait_transfer() {
  while (transfer_active) co_await transfer_done_.async_wait(kTuple);
}

void SessionContext::abort_transfer() {
  abort_requested = true;
  data.abort();
  if (active_stream != nullptr) active_stream->close();
}

}  // namespace ftpsd::session
