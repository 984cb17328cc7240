#pragma once
// The control connection: bounded command lines in, serialized replies out. Replies from the control
// loop and from a running transfer may be due at the same time; a write lock keeps them whole.
// Runs over a ControlTransport (a TCP connection in production, memory in the session tests).
#include <chrono>
#include <optional>
#include <string>

#include "protocol/reply.hpp"
#include "runtime/asio.hpp"
#include "session/clock.hpp"
#include "session/control_transport.hpp"
#include "util/result.hpp"

namespace ftpsd::session {

enum class LineError : std::uint8_t {
  kClosed,   // EOF, reset or cancelled
  kTooLong,  // longer than limits::kMaxCommandLine: the line was skipped up to its end
};

class ControlChannel {
 public:
  // `transport` and `clock` outlive the channel.
  ControlChannel(ControlTransport& transport, const Clock& clock);

  // One line without its end (CRLF or a bare LF). Telnet commands are removed by
  // protocol::strip_telnet (RFC 959 §4.1.3: ABOR is often preceded by IAC IP, IAC DM).
  Task<Result<std::string, LineError>> read_line();
  // Writes the whole reply; returns an error if the peer is gone (or abandon() was called).
  Task<std::error_code> send(const protocol::Reply& reply);
  // Since when the reply being written waits for the client to read (nullopt: no write pending).
  [[nodiscard]] std::optional<Clock::time_point> writing_since() const noexcept {
    if (!writing_) return std::nullopt;
    return write_started_;
  }
  // The client does not read its replies: the pending write and wait are cancelled, and every later
  // send() fails at once.
  void abandon() noexcept;  // NOLINT(bugprone-exception-escape): Asio's timer cancel() does not fail

  // False when read_line() would first have to wait for the client: the session can then park
  // (session.cpp) and hold no coroutine while it waits. mark_readable() records that a wait for
  // readiness outside read_line() has seen the socket readable (epoll is edge-triggered: read_line()
  // must read then, not wait again).
  [[nodiscard]] bool has_input() const noexcept {
    return readable_ || has_buffered_input() || transport_.has_pending();
  }
  void mark_readable() noexcept { readable_ = true; }
  // Waits for the client's next bytes without a coroutine (ControlTransport::park).
  void park(std::unique_ptr<ControlTransport::Parked> parked) { transport_.park(std::move(parked)); }

  // SECURITY: after AUTH TLS, bytes the client sent before the handshake must never be executed.
  [[nodiscard]] bool has_buffered_input() const noexcept { return pos_ < in_.size(); }
  [[nodiscard]] std::size_t buffered_input_size() const noexcept { return in_.size() - pos_; }
  void discard_buffered_input() noexcept;

  [[nodiscard]] asio::any_io_executor executor() noexcept { return transport_.executor(); }
  // The TCP stream, for AUTH TLS and CCC; null over a transport without one (then never secure).
  [[nodiscard]] tls::Stream* stream() noexcept { return transport_.stream(); }
  [[nodiscard]] bool secure() const noexcept {
    const tls::Stream* s = transport_.stream();
    return s != nullptr && s->secure();
  }
  // Ends a pending wait for the client (the watchdog wakes a parked or reading session this way).
  void cancel() noexcept { transport_.cancel(); }
  void close() noexcept { transport_.close(); }

 private:
  [[nodiscard]] std::optional<std::string> take_line();

  ControlTransport& transport_;
  const Clock& clock_;
  std::string in_;
  std::size_t pos_ = 0;
  bool discarding_ = false;  // inside an over-long line
  bool readable_ = false;    // see mark_readable()
  bool writing_ = false;
  bool abandoned_ = false;
  Clock::time_point write_started_{};
  asio::steady_timer write_done_;
};

}  // namespace ftpsd::session
