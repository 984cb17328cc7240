#include "tls/stream.hpp"

#include <array>

namespace ftpsd::tls {

Task<std::tuple<std::error_code, std::size_t>> Stream::read_some(asio::mutable_buffer buf) {
  if (tls_) co_return co_await tls_->async_read_some(buf, kTuple);
  co_return co_await socket_.async_read_some(buf, kTuple);
}

Task<std::tuple<std::error_code, std::size_t>> Stream::write_all(asio::const_buffer buf) {
  if (tls_) co_return co_await asio::async_write(*tls_, buf, kTuple);
  co_return co_await asio::async_write(socket_, buf, kTuple);
}

Task<std::error_code> Stream::handshake(asio::ssl::context& ctx, const std::function<void(SSL*)>& prepare) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, ctx);
  if (prepare) prepare(tls_->native_handle());
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  co_return ec;
}

Task<std::error_code> Stream::shutdown_tls() {
  if (!tls_) co_return std::error_code{};
  if (auto ec = co_await close_notify()) co_return ec;
  tls_.reset();
  // The peer's close_notify: a 5-byte record header, then its body (an encrypted alert).
  std::array<unsigned char, 5> header{};
  auto [hec, hn] = co_await asio::async_read(socket_, asio::buffer(header), kTuple);
  if (hec) co_return hec;
  const std::size_t length = (std::size_t{header[3]} << 8) | header[4];
  constexpr std::size_t kMaxRecord = 16384 + 256;
  if ((header[0] != 21 && header[0] != 23) || length > kMaxRecord)  // alert, or TLS 1.3 application_data
    co_return std::make_error_code(std::errc::protocol_error);
  std::array<unsigned char, kMaxRecord> body{};
  auto [bec, bn] = co_await asio::async_read(socket_, asio::buffer(body.data(), length), kTuple);
  co_return bec;
}

Task<std::error_code> Stream::close_notify() {
  if (!tls_) co_return std::error_code{};
  // Marking the peer's close_notify as received makes SSL_shutdown complete once ours is written.
  SSL_set_shutdown(tls_->native_handle(), SSL_RECEIVED_SHUTDOWN);
  auto [ec] = co_await tls_->async_shutdown(kTuple);
  co_return ec;
}

}  // namespace ftpsd::tls
