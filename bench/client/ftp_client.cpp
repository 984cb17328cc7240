#include "ftp_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>

namespace ftpbench {
namespace {

constexpr std::size_t kRecvTruncLen = 4 << 20;
constexpr std::size_t kTlsReadLen = 256 << 10;

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return std::strerror(errno);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

int new_session_cb(SSL* ssl, SSL_SESSION* sess) {
  auto* owner = static_cast<Control*>(SSL_get_app_data(ssl));
  if (owner == nullptr) return 0;
  owner->on_new_session(sess);  // takes the reference
  return 1;
}

bool g_release_buffers = false;

SSL_CTX* make_context() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) throw Error("SSL_CTX_new: " + ssl_error_text());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
  SSL_CTX_set_cipher_list(ctx,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:HIGH:!aNULL");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, 64 << 10);
  if (g_release_buffers) SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

void set_timeouts(int fd, int timeout_s) {
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_nonblocking(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

int parse_epsv(const std::string& text) {
  auto p = text.find("|||");
  if (p == std::string::npos) throw Error("bad EPSV reply: " + text);
  return std::atoi(text.c_str() + p + 3);
}

int parse_pasv(const std::string& text) {
  auto p = text.find('(');
  if (p == std::string::npos) throw Error("bad PASV reply: " + text);
  int h1, h2, h3, h4, p1, p2;
  if (std::sscanf(text.c_str() + p, "(%d,%d,%d,%d,%d,%d)", &h1, &h2, &h3, &h4, &p1, &p2) != 6) {
    throw Error("bad PASV reply: " + text);
  }
  return p1 * 256 + p2;
}

}  // namespace

void set_release_buffers(bool on) {
  g_release_buffers = on;
}

SSL_CTX* client_context() {
  static SSL_CTX* ctx = make_context();
  return ctx;
}

const std::string& upload_block() {
  static const std::string block = [] {
    std::string b(1 << 20, '\0');
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i + 8 <= b.size(); i += 8) {
      std::uint64_t v = rng();
      std::memcpy(b.data() + i, &v, 8);
    }
    return b;
  }();
  return block;
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void Socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Socket connect_tcp(const std::string& host, int port, int timeout_s) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) throw Error("bad IPv4 address " + host);
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) throw Error(std::string("socket: ") + std::strerror(errno));
  set_timeouts(s.fd(), timeout_s);  // SO_SNDTIMEO also bounds connect()
  int one = 1;
  setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    throw Error("connect " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  return s;
}

std::size_t Stream::read_some(char* buf, std::size_t n) {
  if (!ssl) {
    for (;;) {
      ssize_t r = ::recv(sock.fd(), buf, n, 0);
      if (r >= 0) return static_cast<std::size_t>(r);
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) throw Error("timed out waiting for the server");
      throw Error(std::string("recv: ") + std::strerror(errno));
    }
  }
  std::size_t got = 0;
  int r = SSL_read_ex(ssl.get(), buf, n, &got);
  if (r == 1) return got;
  int e = SSL_get_error(ssl.get(), r);
  if (e == SSL_ERROR_ZERO_RETURN) return 0;
  if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) return 0;
  throw Error("SSL_read: " + ssl_error_text());
}

void Stream::write_all(const char* p, std::size_t n) {
  while (n > 0) {
    if (!ssl) {
      ssize_t r = ::send(sock.fd(), p, n, MSG_NOSIGNAL);
      if (r < 0) {
        if (errno == EINTR) continue;
        throw Error(std::string("send: ") + std::strerror(errno));
      }
      p += r;
      n -= static_cast<std::size_t>(r);
      continue;
    }
    std::size_t done = 0;
    if (SSL_write_ex(ssl.get(), p, n, &done) != 1) throw Error("SSL_write: " + ssl_error_text());
    p += done;
    n -= done;
  }
}

void Stream::close_notify() {
  if (ssl) SSL_shutdown(ssl.get());
  ::shutdown(sock.fd(), SHUT_WR);
}

void Control::send(std::string_view line) {
  std::string l(line);
  l += "\r\n";
  ctl_.write_all(l.data(), l.size());
}

Reply Control::read_reply() {
  Reply r;
  bool multi = false;
  for (;;) {
    auto eol = buf_.find("\r\n", pos_);
    if (eol == std::string::npos) {
      buf_.erase(0, pos_);
      pos_ = 0;
      char tmp[4096];
      std::size_t n = ctl_.read_some(tmp, sizeof tmp);
      if (n == 0) throw Error("control connection closed by the server");
      buf_.append(tmp, n);
      continue;
    }
    std::string line = buf_.substr(pos_, eol - pos_);
    pos_ = eol + 2;
    bool coded = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                 std::isdigit(static_cast<unsigned char>(line[1])) &&
                 std::isdigit(static_cast<unsigned char>(line[2]));
    if (r.code == 0) {
      if (!coded) throw Error("bad reply line: " + line);
      r.code = std::atoi(line.substr(0, 3).c_str());
      multi = line.size() > 3 && line[3] == '-';
      r.text = line;
      if (!multi) return r;
      continue;
    }
    if (coded && std::atoi(line.substr(0, 3).c_str()) == r.code && (line.size() == 3 || line[3] == ' ')) {
      r.text = line;
      return r;
    }
  }
}

Reply Control::command(std::string_view line) {
  send(line);
  return read_reply();
}

Reply Control::expect(std::string_view line, int code) {
  Reply r = command(line);
  if (r.code != code) {
    std::string shown = line.substr(0, 4) == "PASS" ? std::string("PASS ****") : std::string(line);
    throw Error(shown + " -> " + r.text);
  }
  return r;
}

void Control::start_tls(Stream& st, SSL_SESSION* resume) {
  st.ssl.reset(SSL_new(client_context()));
  if (!st.ssl) throw Error("SSL_new: " + ssl_error_text());
  SSL_set_fd(st.ssl.get(), st.sock.fd());
  SSL_set_app_data(st.ssl.get(), this);
  if (s_.tls12) SSL_set_max_proto_version(st.ssl.get(), TLS1_2_VERSION);
  if (resume != nullptr) SSL_set_session(st.ssl.get(), resume);
  if (SSL_connect(st.ssl.get()) != 1) throw Error("TLS handshake: " + ssl_error_text());
  if (&st == &ctl_) group_ = static_cast<int>(SSL_get_negotiated_group(st.ssl.get()));  // an NID
}

void Control::login(bool full) {
  ctl_.sock = connect_tcp(s_.host, s_.port, s_.timeout_s);
  Reply g = read_reply();
  if (g.code != 220) throw Error("greeting: " + g.text);
  if (s_.tls) {
    expect("AUTH TLS", 234);
    if (pos_ != buf_.size()) throw Error("data after 234");
    start_tls(ctl_, nullptr);
  }
  Reply u = command("USER " + s_.user);
  if (u.code == 331) {
    expect("PASS " + s_.pass, 230);
  } else if (u.code != 230) {
    throw Error("USER -> " + u.text);
  }
  if (!full) return;
  if (s_.tls) {
    expect("PBSZ 0", 200);
    expect(s_.prot_p ? "PROT P" : "PROT C", 200);
  }
  expect("TYPE I", 200);
}

void Control::quit() {
  try {
    command("QUIT");
  } catch (const Error&) {
  }
  if (ctl_.ssl) SSL_shutdown(ctl_.ssl.get());
  ctl_.ssl.reset();
  ctl_.sock.close();
}

std::string Control::tls_description() const {
  if (!ctl_.ssl) return "clear";
  return std::string(SSL_get_version(ctl_.ssl.get())) + " " + SSL_get_cipher_name(ctl_.ssl.get());
}

int Control::open_passive_port() {
  if (s_.pasv) {
    Reply r = expect("PASV", 227);
    return parse_pasv(r.text);
  }
  Reply r = expect("EPSV", 229);
  return parse_epsv(r.text);
}

bool Control::control_has_buffered() const {
  return pos_ < buf_.size() || (ctl_.ssl && SSL_pending(ctl_.ssl.get()) > 0);
}

// The TLS handshake on a data connection, resuming the control session. The
// preliminary reply (150) may come before or after the server's handshake, so
// the control connection is watched at the same time.
void Control::data_handshake(Stream& data, bool& got_preliminary) {
  SSL* ssl = SSL_new(client_context());
  if (ssl == nullptr) throw Error("SSL_new: " + ssl_error_text());
  data.ssl.reset(ssl);
  SSL_set_fd(ssl, data.sock.fd());
  SSL_set_app_data(ssl, this);
  if (s_.tls12) SSL_set_max_proto_version(ssl, TLS1_2_VERSION);
  if (session_) SSL_set_session(ssl, session_.get());
  if (group_ > 0) {
    // Offer the key share the server chose for the control connection first:
    // a server that prefers another group than the client's default would
    // otherwise answer every data connection with a HelloRetryRequest.
    int groups[] = {group_, NID_X25519, NID_X9_62_prime256v1, NID_secp384r1};
    int n = 1;
    for (int g : {NID_X25519, NID_X9_62_prime256v1, NID_secp384r1}) {
      if (g != group_) groups[n++] = g;
    }
    SSL_set1_groups(ssl, groups, n);
  }
  SSL_set_connect_state(ssl);
  set_nonblocking(data.sock.fd(), true);
  for (;;) {
    int r = SSL_do_handshake(ssl);
    if (r == 1) break;
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      throw Error("data TLS handshake: " + ssl_error_text());
    }
    if (!got_preliminary && control_has_buffered()) {
      Reply p = read_reply();
      if (p.code >= 300) throw Error("transfer refused: " + p.text);
      got_preliminary = true;
    }
    pollfd fds[2] = {{data.sock.fd(), static_cast<short>(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), 0},
                     {ctl_.sock.fd(), POLLIN, 0}};
    int n = ::poll(fds, got_preliminary ? 1 : 2, s_.timeout_s * 1000);
    if (n == 0) throw Error("data TLS handshake: timeout");
    if (n < 0 && errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
    if (!got_preliminary && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      Reply p = read_reply();
      if (p.code >= 300) throw Error("transfer refused: " + p.text);
      got_preliminary = true;
    }
  }
  set_nonblocking(data.sock.fd(), false);
  ++data_connections_;
  if (SSL_session_reused(ssl)) ++data_resumed_;
}

std::uint64_t Control::transfer(const std::string& cmd, const Body& body, bool upload) {
  int port = open_passive_port();
  Stream data;
  data.sock = connect_tcp(s_.host, port, s_.timeout_s);
  send(cmd);
  bool got_preliminary = false;
  if (s_.prot_p) {
    data_handshake(data, got_preliminary);
  } else {
    Reply p = read_reply();
    if (p.code >= 300) throw Error(cmd + " -> " + p.text);
    got_preliminary = true;
    ++data_connections_;
  }
  std::uint64_t n = body(data);
  if (upload) {
    data.close_notify();
  } else {
    // Mark the connection as shut down: OpenSSL otherwise treats the session
    // (and the ticket this connection delivered) as bad and not resumable.
    if (data.ssl) SSL_set_shutdown(data.ssl.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    data.ssl.reset();
    data.sock.close();
  }
  if (!got_preliminary) {
    Reply p = read_reply();
    if (p.code >= 300) throw Error(cmd + " -> " + p.text);
  }
  Reply done = read_reply();
  if (done.code != 226 && done.code != 250) throw Error(cmd + " -> " + done.text);
  if (upload && data.ssl) {
    // The server's session tickets for this connection wait unread in the
    // socket buffer after an upload: take them (without blocking) so that the
    // next data connection can resume with a fresh ticket.
    set_nonblocking(data.sock.fd(), true);
    char tmp[4096];
    std::size_t got = 0;
    while (SSL_read_ex(data.ssl.get(), tmp, sizeof tmp, &got) == 1) {
    }
    ERR_clear_error();
    SSL_set_shutdown(data.ssl.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  return n;
}

std::uint64_t Control::retr(const std::string& path) {
  return transfer(
      "RETR " + path,
      [this](Stream& d) -> std::uint64_t {
        std::uint64_t total = 0;
        if (!d.ssl && !s_.copy) {
          // MSG_TRUNC on TCP discards the bytes in the kernel: the client
          // spends no time copying what it only counts.
          for (;;) {
            ssize_t r = ::recv(d.sock.fd(), nullptr, kRecvTruncLen, MSG_TRUNC);
            if (r == 0) return total;
            if (r < 0) {
              if (errno == EINTR) continue;
              throw Error(std::string("recv: ") + std::strerror(errno));
            }
            total += static_cast<std::uint64_t>(r);
          }
        }
        thread_local std::unique_ptr<char[]> buf(new char[kTlsReadLen]);
        for (;;) {
          std::size_t r = d.read_some(buf.get(), kTlsReadLen);
          if (r == 0) return total;
          total += r;
        }
      },
      false);
}

std::uint64_t Control::stor(const std::string& path, std::uint64_t size) {
  return transfer(
      "STOR " + path,
      [size](Stream& d) -> std::uint64_t {
        const std::string& block = upload_block();
        std::uint64_t left = size;
        while (left > 0) {
          std::size_t n = left < block.size() ? static_cast<std::size_t>(left) : block.size();
          d.write_all(block.data(), n);
          left -= n;
        }
        return size;
      },
      true);
}

std::uint64_t Control::list(const std::string& verb, const std::string& path, std::uint64_t* lines) {
  *lines = 0;
  return transfer(
      path.empty() ? verb : verb + " " + path,
      [lines](Stream& d) -> std::uint64_t {
        std::uint64_t total = 0;
        thread_local std::unique_ptr<char[]> buf(new char[kTlsReadLen]);
        for (;;) {
          std::size_t r = d.read_some(buf.get(), kTlsReadLen);
          if (r == 0) return total;
          total += r;
          for (std::size_t i = 0; i < r; ++i) *lines += buf[i] == '\n';
        }
      },
      false);
}

}  // namespace ftpbench
