#pragma once
// What the control connection runs over: bytes in and out, a wait for the client's next bytes, and
// the TLS stream when there is one. In production a TCP socket (SocketTransport: plain or TLS); the
// session tests (tests/session) put an in-memory pair of byte queues in its place.
//
// Used on the session's event loop only. Every operation that waits ends with operation_aborted once
// cancel() or close() is called.
#include <memory>
#include <system_error>
#include <tuple>

#include "runtime/asio.hpp"
#include "tls/stream.hpp"

namespace ftpsd::session {

class ControlTransport {
 public:
  // What waits parked for the client's next bytes (a session between two commands): while it waits,
  // the transport's pending wait is its only owner, and resumed() hands it back. A parked session thus
  // holds no coroutine frame (session.cpp).
  class Parked {
   public:
    Parked() = default;
    Parked(const Parked&) = delete;
    Parked& operator=(const Parked&) = delete;
    virtual ~Parked() = default;
    // `ec`: none when bytes can be read (or the client closed); an error when the wait was cancelled or
    // the connection is gone. Runs on the transport's executor, never inside park().
    virtual void resumed(std::unique_ptr<Parked> self, std::error_code ec) = 0;
  };

  ControlTransport() = default;
  ControlTransport(const ControlTransport&) = delete;
  ControlTransport& operator=(const ControlTransport&) = delete;
  virtual ~ControlTransport() = default;

  // The event loop the session runs on.
  [[nodiscard]] virtual asio::any_io_executor executor() noexcept = 0;
  // The control connection's peer and local addresses (unspecified when unknown).
  [[nodiscard]] virtual asio::ip::address remote_address() = 0;
  [[nodiscard]] virtual asio::ip::address local_address() = 0;

  // Some bytes (at least one) into `buf`; 0 bytes or an error when the peer closed or the read failed.
  virtual Task<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer buf) = 0;
  // All of `buf`, or an error.
  virtual Task<std::tuple<std::error_code, std::size_t>> write_all(asio::const_buffer buf) = 0;
  // Until bytes can be read (or the peer closed), without reading them.
  virtual Task<std::error_code> wait_readable() = 0;
  // The same without a coroutine: the transport owns `parked` until it resumes it.
  virtual void park(std::unique_ptr<Parked> parked) = 0;
  // Bytes already received below read_some (inside OpenSSL): a read completes without waiting.
  [[nodiscard]] virtual bool has_pending() const noexcept = 0;

  // Ends the pending wait, read and write (the watchdog wakes a session this way).
  virtual void cancel() noexcept = 0;
  virtual void close() noexcept = 0;

  // The TCP stream under the control connection, for AUTH TLS, CCC and the TLS details (null when the
  // transport has none: then the control connection is always in clear).
  [[nodiscard]] virtual tls::Stream* stream() noexcept = 0;
};

// The production transport: a TCP connection, plain or TLS.
class SocketTransport final : public ControlTransport {
 public:
  explicit SocketTransport(tls::Stream stream) : stream_(std::move(stream)) {}

  asio::any_io_executor executor() noexcept override { return stream_.socket().get_executor(); }
  [[nodiscard]] asio::ip::address remote_address() override;
  [[nodiscard]] asio::ip::address local_address() override;
  // Not coroutines themselves: they hand out the stream's own operations (no frame of their own).
  Task<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer buf) override {
    return stream_.read_some(buf);
  }
  Task<std::tuple<std::error_code, std::size_t>> write_all(asio::const_buffer buf) override {
    return stream_.write_all(buf);
  }
  Task<std::error_code> wait_readable() override;
  void park(std::unique_ptr<Parked> parked) override;
  [[nodiscard]] bool has_pending() const noexcept override { return stream_.has_pending(); }
  void cancel() noexcept override {
    std::error_code ignored;
    stream_.socket().cancel(ignored);
  }
  void close() noexcept override { stream_.close(); }
  tls::Stream* stream() noexcept override { return &stream_; }

 private:
  tls::Stream stream_;
};

}  // namespace ftpsd::session
