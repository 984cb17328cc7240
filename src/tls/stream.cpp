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

Task<std::error_code> Stream::shutdown_tls(Duration client_first) {
  if (!tls_) co_return std::error_code{};
  bool ours_sent = false;
  {
    asio::steady_timer timer(socket_.get_executor(), client_first);
    using namespace asio::experimental::awaitable_operators;
    auto first = co_await (socket_.async_wait(tcp::socket::wait_read, kTuple) || timer.async_wait(kTuple));
    if (first.index() == 1) {
      if (auto ec = co_await close_notify()) co_return ec;
      ours_sent = true;
    } else if (auto [ec] = std::get<0>(first); ec) {
      co_return ec;
    }
  }
  if (auto [ec] = co_await socket_.async_wait(tcp::socket::wait_read, kTuple); ec) co_return ec;
  // A TLS record starts with its content type (20 to 24); a clear FTP command with a letter (or a
  // Telnet IAC). Peeked, so that a command stays where the control channel reads it.
  unsigned char first_byte = 0;
  std::error_code ec;
  const std::size_t peeked = socket_.receive(asio::buffer(&first_byte, 1), tcp::socket::message_peek, ec);
  if (ec) co_return ec;
  if (peeked == 0) co_return asio::error::eof;
  if (first_byte >= 20 && first_byte <= 24) {
    std::array<unsigned char, 1> none{};
    std::size_t n = 0;
    ec = co_await drive([&] { return SSL_read_ex(tls_.get(), none.data(), none.size(), &n); });
    if (!ec) co_return std::make_error_code(std::errc::protocol_error);  // data instead of close_notify
    if (ec != asio::error::eof) co_return ec;
    if (!ours_sent) {
      if (auto sec = co_await close_notify()) co_return sec;
    }
  }
  tls_.reset();
  co_return std::error_code{};
}

Task<std::error_code> Stream::close_notify() {
  if (!tls_) co_return std::error_code{};
  for (;;) {
    ERR_clear_error();
    errno = 0;
    // 0: ours is written, the peer's not read yet; 1: both. A second call (after WANT_WRITE) finishes
    // writing the alert; WANT_READ only comes once ours is out (OpenSSL would wait for the peer's).
    const int r = SSL_shutdown(tls_.get());
    if (r >= 0) break;
    const int saved_errno = errno;
    const int e = SSL_get_error(tls_.get(), r);
    if (e == SSL_ERROR_WANT_READ) break;
    if (e != SSL_ERROR_WANT_WRITE) co_return failure(e, saved_errno);
    if (auto [ec] = co_await socket_.async_wait(tcp::socket::wait_write, kTuple); ec) co_return ec;
  }
  // OpenSSL flushes the alert itself but ignores a flush that would block: finish it here.
  co_return co_await flush();
}

Task<std::error_code> Stream::await_peer_close() {
  if (!tls_) co_return std::error_code{};
  std::array<unsigned char, 4096> scratch{};
  while (!peer_closed()) {
    std::size_t n = 0;
    auto ec = co_await drive([&] { return SSL_read_ex(tls_.get(), scratch.data(), scratch.size(), &n); });
    if (ec == asio::error::eof) break;
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}

void Stream::drain() noexcept {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  std::array<unsigned char, 4096> scratch{};
  for (int i = 0; i < 64 && !ec; ++i) {
    if (socket_.read_some(asio::buffer(scratch), ec) == 0) break;
  }
}

}  // namespace ftpsd::tls
