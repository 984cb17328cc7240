#pragma once
// One client, from accept to close: greeting, the control loop (read -> parse -> dispatch -> reply),
// the transfer task, and the idle/login watchdog. Runs on one event loop; no thread of its own.
//
// Between two commands a session holds no coroutine: when the client has sent nothing more, the
// command loop ends and the session parks on a wait for the control socket, whose callback starts the
// loop again (session.cpp). An idle session costs its state and that wait, not a stack of frames.
#include <atomic>

#include "config/config.hpp"
#include "net/connection_limiter.hpp"
#include "runtime/asio.hpp"
#include "session/control_transport.hpp"
#include "session/services.hpp"

namespace ftpsd::session {

// What the server granted a connection it admitted: its place under server.max_sessions (counted up
// by the accept loop) and under server.max_sessions_per_ip. Both are given back when the Admission is
// destroyed: at the end of the session, or at once for a connection refused before its session.
class Admission {
 public:
  explicit Admission(std::atomic<std::size_t>& counted) noexcept : counted_(&counted) {}
  Admission(Admission&& o) noexcept
      : per_ip(std::move(o.per_ip)), counted_(std::exchange(o.counted_, nullptr)) {}
  Admission& operator=(Admission&&) = delete;
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  ~Admission() {
    if (counted_ != nullptr) counted_->fetch_sub(1, std::memory_order_relaxed);
  }

  net::KeyedCounter::Lease per_ip;

 private:
  std::atomic<std::size_t>* counted_;
};

// Starts a session on the socket's event loop and returns; it runs to its end on its own and never
// throws: a bug is logged and closes only this session.
// `client`: the client's address from a PROXY protocol header (the socket's peer is the proxy then).
// `snapshot`: the configuration the session runs with (taken by the caller when it accepted).
void start_session(asio::ip::tcp::socket socket, Services& services, Snapshot snapshot,
                   const config::ListenerConfig& listener, Admission admission,
                   std::optional<asio::ip::address> client = std::nullopt);
// The same over another transport (the session tests: an in-memory one).
void start_session(std::unique_ptr<ControlTransport> transport, Services& services, Snapshot snapshot,
                   const config::ListenerConfig& listener, Admission admission,
                   std::optional<asio::ip::address> client = std::nullopt);

}  // namespace ftpsd::session
