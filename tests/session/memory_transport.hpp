#pragma once
// An in-memory control connection for the session tests: two byte queues on one event loop. The
// session gets the server end (MemoryTransport, a ControlTransport); the test keeps the client end
// (MemoryClient) and reads and writes it from the thread that runs the loop. Plain text only.
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/asio.hpp"
#include "session/control_transport.hpp"

namespace ftpsd::test {

// What both ends share.
struct MemoryPipe {
  explicit MemoryPipe(asio::any_io_executor ex)
      : executor(ex), changed(ex, asio::steady_timer::time_point::max()) {}

  // Wakes every coroutine that waits on the server end, and the parked session, if it should wake.
  void wake();
  // Resumes the parked session (posted, never inside the caller) with `ec`.
  void resume_parked(std::error_code ec);

  asio::any_io_executor executor;
  std::string to_server;  // sent by the client, not read by the server yet
  std::string to_client;  // written by the server, not read by the client yet
  // The most `to_client` holds: a client that stops reading makes the server's writes wait.
  std::size_t client_window = std::numeric_limits<std::size_t>::max();
  bool client_closed = false;  // the client closed its end: the server reads EOF, its writes fail
  bool server_closed = false;  // the server closed its end
  bool server_alive = false;   // a MemoryTransport exists (the session has not gone yet)
  std::uint64_t cancels = 0;   // counts cancel(): what waits when it is called ends
  std::unique_ptr<session::ControlTransport::Parked> parked;
  asio::steady_timer changed;  // never expires; cancelled when something changed
};

// The server end.
class MemoryTransport final : public session::ControlTransport {
 public:
  // `peer` and `local`: the addresses the session sees (loopback, so that passive data connections
  // from the test pass the same-peer check).
  MemoryTransport(std::shared_ptr<MemoryPipe> pipe, asio::ip::address peer, asio::ip::address local);
  ~MemoryTransport() override;

  asio::any_io_executor executor() noexcept override { return pipe_->executor; }
  asio::ip::address remote_address() override { return peer_; }
  asio::ip::address local_address() override { return local_; }
  Task<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer buf) override;
  Task<std::tuple<std::error_code, std::size_t>> write_all(asio::const_buffer buf) override;
  Task<std::error_code> wait_readable() override;
  void park(std::unique_ptr<Parked> parked) override;
  [[nodiscard]] bool has_pending() const noexcept override { return false; }
  void cancel() noexcept override;
  void close() noexcept override;
  tls::Stream* stream() noexcept override { return nullptr; }

 private:
  std::shared_ptr<MemoryPipe> pipe_;
  asio::ip::address peer_;
  asio::ip::address local_;
};

// The client end, driven by the test.
class MemoryClient {
 public:
  explicit MemoryClient(std::shared_ptr<MemoryPipe> pipe) : pipe_(std::move(pipe)) {}
  MemoryClient(const MemoryClient&) = delete;
  MemoryClient& operator=(const MemoryClient&) = delete;
  // A client that goes away closes its end: its session ends the next time the loop runs.
  ~MemoryClient();

  void write(std::string_view bytes);
  // Everything the server wrote so far (taken out of the queue).
  std::string take();
  // What the server wrote so far, left in the queue.
  [[nodiscard]] const std::string& pending() const { return pipe_->to_client; }
  // Takes `n` bytes from the front of what the server wrote.
  void consume(std::size_t n);
  // The client reads no more than `bytes` ahead: further server writes wait until it reads.
  void limit_window(std::size_t bytes) { pipe_->client_window = bytes; }
  void close();
  [[nodiscard]] bool server_closed() const { return pipe_->server_closed; }
  // The session is gone (its transport was destroyed).
  [[nodiscard]] bool server_gone() const { return !pipe_->server_alive; }

 private:
  std::shared_ptr<MemoryPipe> pipe_;
};

}  // namespace ftpsd::test
