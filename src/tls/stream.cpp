#include "tls/stream.hpp"

#include <array>
#include <cerrno>

namespace ftpsd::tls {
namespace {

// What a failed SSL_* call means, as the error codes the rest of the server already knows
// (asio::error::eof for a clean close_notify, stream_truncated for a close without one).
std::error_code failure(int ssl_error, int saved_errno) {
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (saved_errno == 0) return asio::ssl::error::stream_truncated;
      return {saved_errno, std::system_category()};
    default: {
      const unsigned long code = ERR_peek_error();
      ERR_clear_error();
      if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return asio::ssl::error::stream_truncated;
      if (code == 0) return asio::error::connection_reset;
      return {static_cast<int>(code), asio::error::get_ssl_category()};
    }
  }
}

}  // namespace

template <class Op>
Task<std::error_code> Stream::drive(Op op) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int r = op();
    if (r > 0) co_return std::error_code{};
    const int saved_errno = errno;
    const int e = SSL_get_error(tls_.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      const auto wait = e == SSL_ERROR_WANT_READ ? tcp::socket::wait_read : tcp::socket::wait_write;
      if (auto [ec] = co_await socket_.async_wait(wait, kTuple); ec) co_return ec;
      continue;
    }
    co_return failure(e, saved_errno);
  }
}

Task<std::tuple<std::error_code, std::size_t>> Stream::read_some(asio::mutable_buffer buf) {
  if (!tls_) co_return co_await socket_.async_read_some(buf, kTuple);
  if (buf.size() == 0) co_return std::tuple{std::error_code{}, std::size_t{0}};
  std::size_t n = 0;
  auto ec = co_await drive([&] { return SSL_read_ex(tls_.get(), buf.data(), buf.size(), &n); });
  co_return std::tuple{ec, ec ? std::size_t{0} : n};
}

Task<std::tuple<std::error_code, std::size_t>> Stream::write_all(asio::const_buffer buf, bool flush) {
  if (!tls_) co_return co_await asio::async_write(socket_, buf, kTuple);
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE a successful SSL_write_ex has written everything; a retry
  // after WANT_WRITE repeats the same call, as OpenSSL requires.
  std::size_t n = 0;
  if (buf.size() == 0) co_return std::tuple{std::error_code{}, std::size_t{0}};
  auto ec = co_await drive([&] { return SSL_write_ex(tls_.get(), buf.data(), buf.size(), &n); });
  if (!ec && flush) ec = co_await this->flush();
  co_return std::tuple{ec, ec ? std::size_t{0} : buf.size()};
}

bool Stream::batch_writes(std::size_t bytes) {
  if (!tls_ || writes_batched()) return false;
  BIO* socket_bio = SSL_get_wbio(tls_.get());
  BIO* buffer = BIO_new(BIO_f_buffer());
  if (socket_bio == nullptr || buffer == nullptr ||
      BIO_set_write_buffer_size(buffer, static_cast<long>(bytes)) <= 0) {
    BIO_free(buffer);
    ERR_clear_error();
    return false;
  }
  // The socket BIO is also the read BIO: the chain takes a reference of its own, and SSL_set0_wbio
  // releases the SSL object's write reference.
  BIO_up_ref(socket_bio);
  BIO_push(buffer, socket_bio);
  SSL_set0_wbio(tls_.get(), buffer);
  return true;
}

Task<std::error_code> Stream::flush() {
  if (!writes_batched()) co_return std::error_code{};
  BIO* bio = SSL_get_wbio(tls_.get());
  for (;;) {
    errno = 0;
    if (BIO_flush(bio) > 0) co_return std::error_code{};
    const int saved_errno = errno;
    if (!BIO_should_retry(bio)) {
      ERR_clear_error();
      if (saved_errno != 0) co_return std::error_code{saved_errno, std::system_category()};
      co_return asio::error::connection_reset;
    }
    if (auto [ec] = co_await socket_.async_wait(tcp::socket::wait_write, kTuple); ec) co_return ec;
  }
}

Task<std::error_code> Stream::handshake(asio::ssl::context& ctx, const std::function<void(SSL*)>& prepare) {
  std::error_code ec;
  socket_.native_non_blocking(true, ec);
  if (ec) co_return ec;
  tls_.reset(SSL_new(ctx.native_handle()));
  if (!tls_ || SSL_set_fd(tls_.get(), socket_.native_handle()) != 1) {
    tls_.reset();
    ERR_clear_error();
    co_return std::make_error_code(std::errc::not_enough_memory);
  }
  SSL_set_accept_state(tls_.get());
  if (prepare) prepare(tls_.get());
  co_return co_await drive([&] { return SSL_do_handshake(tls_.get()); });
}

Task<std::error_code> Stream::shutdown_tls() {
  if (!tls_) co_return std::error_code{};
  if (auto ec = co_await close_notify()) co_return ec;
  tls_.reset();
  // The peer's close_notify: a 5-byte record header, then its body (an encrypted alert). Read from
  // the socket itself, so that the clear command behind it stays there.
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
  SSL_set_shutdown(tls_.get(), SSL_RECEIVED_SHUTDOWN);
  if (auto ec = co_await drive([&] { return SSL_shutdown(tls_.get()); })) co_return ec;
  // OpenSSL flushes the alert itself but ignores a flush that would block: finish it here.
  co_return co_await flush();
}

}  // namespace ftpsd::tls
