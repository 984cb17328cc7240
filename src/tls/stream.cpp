#include "tls/stream.hpp"

namespace ftpsd::tls {

Task<std::tuple<std::error_code, std::size_t>> Stream::read_some(asio::mutable_buffer buf) {
  if (tls_) co_return co_await tls_->async_read_some(buf, kTuple);
  co_return co_await socket_.async_read_some(buf, kTuple);
}

Task<std::tuple<std::error_code, std::size_t>> Stream::write_all(asio::const_buffer buf) {
  if (tls_) co_return co_await asio::async_write(*tls_, buf, kTuple);
  co_return co_await asio::async_write(socket_, buf, kTuple);
}

Task<std::error_code> Stream::handshake(asio::ssl::context& ctx) {
  tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, ctx);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kTuple);
  co_return ec;
}

Task<std::error_code> Stream::shutdown_tls() {
  if (!tls_) co_return std::error_code{};
  auto [ec] = co_await tls_->async_shutdown(kTuple);
  tls_.reset();
  co_return ec;
}

}  // namespace ftpsd::tls
