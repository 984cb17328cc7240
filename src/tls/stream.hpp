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
#include "util/duration.hpp"

namespace ftpsd::tls {

using asio::ip::tcp;

class SessionBinding;

class Stream {
 public:
  explicit Stream(tcp::socket socket) : socket_(std::move(socket)) {}
  Stream(Stream&&) = default;
  Stream& operator=(Stream&&) = default;

  tcp::socket& socket() noexcept { return socket_; }
  [[nodiscard]] bool secure() const noexcept { return tls_ != nullptr; }
  // OpenSSL already holds received bytes (a read may complete without waiting for the socket).
  [[nodiscard]] bool has_pending() const noexcept { return tls_ && SSL_has_pending(tls_.get()) == 1; }

  Task<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer buf);
  // With batch_writes, `flush = false` may leave the end in the buffer for the next write_all or
  // close_notify to send along (the last piece of a download and its close_notify in one segment).
  Task<std::tuple<std::error_code, std::size_t>> write_all(asio::const_buffer buf, bool flush = true);

  // Starts TLS on this connection in the server role. `prepare` configures the SSL object before
  // the handshake (session id context, tickets). The caller bounds it with a timeout.
  Task<std::error_code> handshake(asio::ssl::context& ctx, const std::function<void(SSL*)>& prepare);
  // CCC (RFC 4217 §6): the TLS closure in either order, then plain TCP. The client's close_notify is
  // awaited for `client_first` (lftp, curl's active CCC mode and Python's unwrap() send theirs at once,
  // and lftp takes a close_notify that arrives with the 200 for the end of the connection); without it,
  // ours goes first, and the client answers with its close_notify or goes on in clear text (curl's
  // default, passive, CCC mode waits for ours and sends none). Record by record: the client's next
  // command follows in clear right behind its close_notify and must not be swallowed by the TLS engine
  // (read-ahead is off on control connections). The caller bounds the whole.
  Task<std::error_code> shutdown_tls(Duration client_first);
  // Sends our close_notify (after what the batch buffer still holds) without waiting for the peer's:
  // the end of a download or a listing, of an upload once the client's has come, of a session.
  Task<std::error_code> close_notify();
  // The TLS handshake has completed (a close_notify can be sent).
  [[nodiscard]] bool established() const noexcept { return tls_ && SSL_is_init_finished(tls_.get()) == 1; }
  // The peer's close_notify has been read.
  [[nodiscard]] bool peer_closed() const noexcept {
    return tls_ && (SSL_get_shutdown(tls_.get()) & SSL_RECEIVED_SHUTDOWN) != 0;
  }
  // After our close_notify: reads and drops what the peer still sends until its close_notify (no
  // error) or the end of its stream (eof, stream_truncated or another error). The caller bounds it.
  Task<std::error_code> await_peer_close();
  // Our side of the TCP stream ends (a FIN after the close_notify); the peer may still send.
  void end_writes() noexcept {
    std::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }
  // Reads and drops what the socket holds, without waiting (at most 256 KiB): close() with unread
  // bytes sends a RST, and a RST can destroy what the peer has not read yet.
  void drain() noexcept;
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
  // The OpenSSL object stays inside the TLS layer: SessionBinding reads a connection's facts from it.
  friend class SessionBinding;
  [[nodiscard]] SSL* native() const noexcept { return tls_.get(); }

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
