#pragma once
// A TCP connection that is plain or TLS. The rest of the server sees only this: read, write, close,
// and the upgrade to TLS in the server role. Not thread-safe: use on the owning event loop only.
//
// TLS runs OpenSSL directly on the non-blocking socket (a socket BIO) and waits for readiness with
// the event loop, instead of asio::ssl::stream's BIO pair: no copy of every byte through two 17 KiB
// staging buffers, and an idle TLS connection holds no buffers at all (SSL_MODE_RELEASE_BUFFERS).
#include <asio/ssl.hpp>
#include <functional>
#include <memory>
#include <string>

#include "runtime/asio.hpp"
#include "tls/openssl_ptr.hpp"

namespace ftpsd::tls {

using asio::ip::tcp;

class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  tcp::socket& socket() noexcept { return socket_; }
  [[nodiscard]] bool secure() const noexcept { return tls_ != nullptr; }
  [[nodiscard]] SSL* native() const noexcept { return tls_.get(); }
  // OpenSSL already holds received bytes (a read may complete without waiting for the socket).
  [[nodiscard]] bool has_pending() const noexcept { return tls_ && SSL_has_pending(tls_.get()) == 1; }

  Task<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  // With batch_writes, `flush = false` may leave the end in the buffer for the next write_all or
  // close_notify to send along (the last piece of a download and its close_notify in one segment).
  Task<std::tuple<std::error_code, std::size_t>> write_all(asio::const_buffer buf, bool flush = true);

  // Starts TLS on this connection in the server role. `prepare` configures the SSL object before
  // the handshake (session id context, tickets). The caller bounds it with a timeout.
  Task<std::error_code> handshake(asio::ssl::context& ctx, const std::function<void(SSL*)>& prepare);
  // CCC (RFC 4217 §6): our close_notify, then exactly one TLS record from the peer (its
  // close_notify), then plain TCP. Reading record by record matters: the client's next command
  // follows in clear right behind its close_notify, and must not be swallowed by the TLS engine.
  Task<std::error_code> shutdown_tls();
  // Sends our close_notify without waiting for the peer's: the end of a download or a listing.
  Task<std::error_code> close_notify();
  // Drops the TLS state without a close_notify (after an error).
  void drop_tls() noexcept { tls_.reset(); }
  // For a bulk download on a secured connection: TLS records are gathered in a buffer of `bytes`
  // and reach the socket in one write(2) per buffer instead of one per 16 KiB record (fewer system
  // calls and TCP segments; costs one copy of the ciphertext through a cache-warm buffer).
  // write_all and close_notify flush it. Call once, right after the handshake. False if not done.
  bool batch_writes(std::size_t bytes);
  // (No member of its own, so idle sessions stay as small as they are: the buffer BIO is the sign.)
  [[nodiscard]] bool writes_batched() const noexcept {
    return tls_ && SSL_get_wbio(tls_.get()) != SSL_get_rbio(tls_.get());
  }

  void close() noexcept {
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  using SslPtr = std::unique_ptr<SSL, OpenSslFree<SSL, SSL_free>>;

  // Runs `op` (an SSL_* call returning OpenSSL's int result) until it succeeds or fails, waiting for
  // the socket whenever OpenSSL wants to read or write.
  template <class Op>
  Task<std::error_code> drive(Op op);
  // Writes out what batch_writes' buffer holds.
  Task<std::error_code> flush();

  tcp::socket socket_;
  SslPtr tls_;
};

}  // namespace ftpsd::tls
