#include "memory_transport.hpp"

#include <algorithm>
#include <cstring>

namespace ftpsd::test {

void MemoryPipe::wake() {
  changed.cancel();
  if (parked && (!to_server.empty() || client_closed)) resume_parked({});
}

void MemoryPipe::resume_parked(std::error_code ec) {
  if (!parked) return;
  // The pending call owns the session, as the socket's pending wait does in production.
  asio::post(executor, [p = std::move(parked), ec]() mutable {
    auto* raw = p.get();
    raw->resumed(std::move(p), ec);
  });
}

MemoryTransport::MemoryTransport(std::shared_ptr<MemoryPipe> pipe, asio::ip::address peer,
                                 asio::ip::address local)
    : pipe_(std::move(pipe)), peer_(peer), local_(local) {
  pipe_->server_alive = true;
}

MemoryTransport::~MemoryTransport() {
  pipe_->server_alive = false;
  pipe_->server_closed = true;
}

Task<std::tuple<std::error_code, std::size_t>> MemoryTransport::read_some(asio::mutable_buffer buf) {
  auto pipe = pipe_;
  const auto generation = pipe->cancels;
  for (;;) {
    if (pipe->server_closed) co_return std::tuple{make_error_code(asio::error::bad_descriptor), 0};
    if (pipe->cancels != generation) co_return std::tuple{make_error_code(asio::error::operation_aborted), 0};
    if (!pipe->to_server.empty()) {
      const std::size_t n = std::min(buf.size(), pipe->to_server.size());
      std::memcpy(buf.data(), pipe->to_server.data(), n);
      pipe->to_server.erase(0, n);
      co_return std::tuple{std::error_code{}, n};
    }
    if (pipe->client_closed) co_return std::tuple{make_error_code(asio::error::eof), 0};
    co_await pipe->changed.async_wait(kTuple);
  }
}

Task<std::tuple<std::error_code, std::size_t>> MemoryTransport::write_all(asio::const_buffer buf) {
  auto pipe = pipe_;
  const auto generation = pipe->cancels;
  const auto* bytes = static_cast<const char*>(buf.data());
  std::size_t done = 0;
  while (done < buf.size()) {
    if (pipe->server_closed) co_return std::tuple{make_error_code(asio::error::bad_descriptor), done};
    if (pipe->cancels != generation)
      co_return std::tuple{make_error_code(asio::error::operation_aborted), done};
    if (pipe->client_closed) co_return std::tuple{make_error_code(asio::error::broken_pipe), done};
    const std::size_t room =
        pipe->client_window > pipe->to_client.size() ? pipe->client_window - pipe->to_client.size() : 0;
    if (room == 0) {
      co_await pipe->changed.async_wait(kTuple);
      continue;
    }
    const std::size_t n = std::min(room, buf.size() - done);
    pipe->to_client.append(bytes + done, n);
    done += n;
  }
  co_return std::tuple{std::error_code{}, done};
}

Task<std::error_code> MemoryTransport::wait_readable() {
  auto pipe = pipe_;
  const auto generation = pipe->cancels;
  for (;;) {
    if (pipe->server_closed) co_return make_error_code(asio::error::bad_descriptor);
    if (pipe->cancels != generation) co_return make_error_code(asio::error::operation_aborted);
    if (!pipe->to_server.empty() || pipe->client_closed) co_return std::error_code{};
    co_await pipe->changed.async_wait(kTuple);
  }
}

void MemoryTransport::park(std::unique_ptr<Parked> parked) {
  pipe_->parked = std::move(parked);
  if (pipe_->server_closed) {
    pipe_->resume_parked(make_error_code(asio::error::bad_descriptor));
    return;
  }
  pipe_->wake();  // resumes at once when the client has sent something already
}

void MemoryTransport::cancel() noexcept {
  ++pipe_->cancels;
  pipe_->changed.cancel();
  pipe_->resume_parked(make_error_code(asio::error::operation_aborted));
}

void MemoryTransport::close() noexcept {
  pipe_->server_closed = true;
  pipe_->changed.cancel();
  pipe_->resume_parked(make_error_code(asio::error::bad_descriptor));
}

MemoryClient::~MemoryClient() {
  close();  // a parked session wakes up, reads the end and ends (when the test's loop runs again)
}

void MemoryClient::write(std::string_view bytes) {
  pipe_->to_server.append(bytes);
  pipe_->wake();
}

std::string MemoryClient::take() {
  std::string out = std::move(pipe_->to_client);
  pipe_->to_client.clear();
  pipe_->wake();  // a write waiting for room goes on
  return out;
}

void MemoryClient::consume(std::size_t n) {
  pipe_->to_client.erase(0, n);
  pipe_->wake();
}

void MemoryClient::close() {
  if (pipe_->client_closed) return;
  pipe_->client_closed = true;
  pipe_->wake();
}

}  // namespace ftpsd::test
