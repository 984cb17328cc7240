// A small, fast FTP/FTPS client for the benchmark: blocking sockets, OpenSSL 3,
// one thread per connection. It reuses the control connection's TLS session on
// every data connection (TLS 1.3 tickets or TLS 1.2 session ids).
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ftpbench {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Settings {
  std::string host = "127.0.0.1";
  int port = 21;
  std::string user;
  std::string pass;
  bool tls = false;     // AUTH TLS on the control connection
  bool prot_p = false;  // PROT P: TLS on data connections
  bool tls12 = false;   // at most TLS 1.2
  bool pasv = false;    // PASV instead of EPSV
  bool copy = false;    // clear RETR: copy into user space instead of MSG_TRUNC
  int timeout_s = 60;
};

struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

// The process-wide client context: TLS 1.2+, AES-GCM first, no certificate
// verification (self-signed), client session cache via callback.
SSL_CTX* client_context();
// Makes the client context release its read/write buffers while idle.
void set_release_buffers(bool on);

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { close(); }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }
  void close();

 private:
  int fd_ = -1;
};

Socket connect_tcp(const std::string& host, int port, int timeout_s);

// Bytes over a socket, clear or TLS.
class Stream {
 public:
  Socket sock;
  SslPtr ssl;

  std::size_t read_some(char* buf, std::size_t n);  // 0 at end of stream
  void write_all(const char* p, std::size_t n);
  void close_notify();
};

struct Reply {
  int code = 0;
  std::string text;  // the last line
};

class Control {
 public:
  explicit Control(Settings s) : s_(std::move(s)) {}
  Control(const Control&) = delete;
  Control& operator=(const Control&) = delete;

  // Connects, reads the greeting, AUTH TLS (if tls), USER/PASS. With `full`,
  // also PBSZ 0 + PROT P/C and TYPE I.
  void login(bool full = true);
  void quit();

  void send(std::string_view line);
  Reply read_reply();
  Reply command(std::string_view line);
  Reply expect(std::string_view line, int code);

  // Data transfers. Each returns the payload bytes moved.
  std::uint64_t retr(const std::string& path);
  std::uint64_t stor(const std::string& path, std::uint64_t size);
  std::uint64_t list(const std::string& verb, const std::string& path, std::uint64_t* lines);

  int data_connections() const { return data_connections_; }
  int data_resumed() const { return data_resumed_; }
  std::string tls_description() const;  // "TLSv1.3 TLS_AES_128_GCM_SHA256" or "clear"
  void on_new_session(SSL_SESSION* s) { session_.reset(s); }

 private:
  using Body = std::function<std::uint64_t(Stream&)>;
  std::uint64_t transfer(const std::string& cmd, const Body& body, bool upload);
  int open_passive_port();
  void start_tls(Stream& st, SSL_SESSION* resume);
  void data_handshake(Stream& data, bool& got_preliminary);
  bool control_has_buffered() const;

  Settings s_;
  Stream ctl_;
  std::string buf_;
  std::size_t pos_ = 0;
  SessionPtr session_;
  int group_ = 0;  // the key-exchange group of the control connection (NID)
  int data_connections_ = 0;
  int data_resumed_ = 0;
};

// A 1 MiB block of pseudo-random bytes used as the upload payload.
const std::string& upload_block();

}  // namespace ftpbench
