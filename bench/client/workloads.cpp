#include "workloads.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <latch>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace ftpbench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Wall clock and this process's CPU time over one measured section.
class Meter {
 public:
  Meter() : t0_(Clock::now()), cpu0_(cpu_seconds()) {}
  double wall() const { return seconds_since(t0_); }
  double cpu() const { return cpu_seconds() - cpu0_; }

 private:
  Clock::time_point t0_;
  double cpu0_;
};

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

class Json {
 public:
  Json& add(const char* k, const std::string& v) { return raw(k, "\"" + escape(v) + "\""); }
  Json& add(const char* k, const char* v) { return add(k, std::string(v)); }
  Json& add(const char* k, bool v) { return raw(k, v ? "true" : "false"); }
  Json& add(const char* k, std::uint64_t v) { return raw(k, std::to_string(v)); }
  Json& add(const char* k, int v) { return raw(k, std::to_string(v)); }
  Json& add(const char* k, double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return raw(k, b);
  }
  void print() const {
    std::printf("{%s}\n", body_.c_str());
    std::fflush(stdout);
  }

 private:
  Json& raw(const char* k, const std::string& v) {
    if (!body_.empty()) body_ += ", ";
    body_ += "\"";
    body_ += k;
    body_ += "\": ";
    body_ += v;
    return *this;
  }
  std::string body_;
};

Json base(const char* workload, double wall, double cpu) {
  Json j;
  j.add("ok", true)
      .add("workload", workload)
      .add("seconds", wall)
      .add("client_cpu", wall > 0 ? cpu / wall : 0.0);
  return j;
}

void add_tls(Json& j, const Control& c) {
  j.add("tls", c.tls_description()).add("data_connections", c.data_connections());
  j.add("data_resumed", c.data_resumed());
}

// Waits up to `seconds` for a line (or the end) on stdin; true if one came.
bool wait_stdin_line(int seconds) {
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char c;
    ssize_t n = ::read(0, &c, 1);
    if (n <= 0 || c == '\n') return true;
  }
}

// Prints the result of one timed transfer of `n` bytes and ends the session.
int report_transfer(const char* workload, Control& c, std::uint64_t n, double wall, double cpu) {
  Json j = base(workload, wall, cpu);
  j.add("bytes", n).add("mbps", static_cast<double>(n) / wall / 1e6);
  add_tls(j, c);
  c.quit();
  j.print();
  return 0;
}

std::string numbered(const std::string& dir, const char* prefix, int i) {
  char b[32];
  std::snprintf(b, sizeof b, "%s%05d", prefix, i);
  return dir.empty() ? std::string(b) : dir + "/" + b;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

// Runs `fn` on `threads` threads and joins them.
template <class Fn>
void run_threads(int threads, Fn fn) {
  std::vector<std::thread> ts;
  ts.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) ts.emplace_back(fn, t);
  for (auto& t : ts) t.join();
}

// Collects the count and the first message of the errors of many threads.
class Errors {
 public:
  void add(const std::exception& e) {
    std::lock_guard<std::mutex> lk(mu_);
    if (count_++ == 0) first_ = e.what();
  }
  int count() const { return count_; }
  void report(Json& j) const {
    j.add("errors", count_);
    if (count_ > 0) j.add("first_error", first_);
  }

 private:
  std::mutex mu_;
  int count_ = 0;
  std::string first_;
};

}  // namespace

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, 2) != "--") throw Error("unexpected argument " + std::string(arg));
    std::string key(arg.substr(2));
    bool has_value = i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--";
    kv_.insert_or_assign(std::move(key), std::string(has_value ? argv[++i] : "1"));
  }
}

std::string Args::str(const std::string& key, const std::string& def) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? def : it->second;
}

long long Args::num(const std::string& key, long long def) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? def : std::stoll(it->second);
}

bool Args::flag(const std::string& key) const {
  return kv_.count(key) != 0;
}

Settings Args::settings() const {
  Settings s;
  s.host = str("host", "127.0.0.1");
  s.port = static_cast<int>(num("port", 21));
  s.user = str("user");
  s.pass = str("pass");
  s.tls = flag("tls");
  s.prot_p = s.tls && str("prot", "P") == "P";
  s.tls12 = flag("tls12");
  s.pasv = flag("pasv");
  s.copy = flag("copy");
  s.timeout_s = static_cast<int>(num("timeout", 60));
  return s;
}

int run_get(const Args& a) {
  Control c(a.settings());
  c.login();
  long long expect = a.num("expect", -1);
  Meter m;
  std::uint64_t n = c.retr(a.str("file"));
  double wall = m.wall(), cpu = m.cpu();
  if (expect >= 0 && n != static_cast<std::uint64_t>(expect)) {
    throw Error("RETR moved " + std::to_string(n) + " bytes, expected " + std::to_string(expect));
  }
  return report_transfer("get", c, n, wall, cpu);
}

int run_put(const Args& a) {
  Control c(a.settings());
  c.login();
  auto size = static_cast<std::uint64_t>(a.num("size", 1 << 20));
  Meter m;
  std::uint64_t n = c.stor(a.str("file"), size);
  double wall = m.wall(), cpu = m.cpu();
  return report_transfer("put", c, n, wall, cpu);
}

namespace {

int run_small(const Args& a, bool upload) {
  Control c(a.settings());
  c.login();
  std::string dir = a.str("dir");
  int count = static_cast<int>(a.num("count", 2000));
  auto size = static_cast<std::uint64_t>(a.num("size", 4096));
  std::uint64_t bytes = 0;
  Meter m;
  for (int i = 0; i < count; ++i) {
    bytes += upload ? c.stor(numbered(dir, "s", i), size) : c.retr(numbered(dir, "f", i));
  }
  double wall = m.wall(), cpu = m.cpu();
  Json j = base(upload ? "small-put" : "small-get", wall, cpu);
  j.add("files", count).add("bytes", bytes).add("files_per_s", count / wall);
  add_tls(j, c);
  c.quit();
  j.print();
  return 0;
}

}  // namespace

int run_small_get(const Args& a) {
  return run_small(a, false);
}
int run_small_put(const Args& a) {
  return run_small(a, true);
}

int run_list(const Args& a) {
  Control c(a.settings());
  c.login();
  std::string verb = a.str("verb", "LIST");
  std::uint64_t lines = 0;
  Meter m;
  std::uint64_t n = c.list(verb, a.str("path"), &lines);
  double wall = m.wall(), cpu = m.cpu();
  Json j = base("list", wall, cpu);
  j.add("verb", verb).add("bytes", n).add("lines", lines).add("ms", wall * 1e3);
  add_tls(j, c);
  c.quit();
  j.print();
  return 0;
}

int run_concurrent(const Args& a) {
  Settings s = a.settings();
  int clients = static_cast<int>(a.num("clients", 200));
  std::string file = a.str("file");
  long long expect = a.num("expect", -1);
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<int> resumed{0};
  std::mutex mu;
  Clock::time_point last_ok{};
  Errors errors;
  std::latch go(1);
  Clock::time_point t0;
  double cpu0 = 0;
  std::thread starter([&] {
    // Give the threads a moment to reach the latch, then start the clock.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cpu0 = cpu_seconds();
    t0 = Clock::now();
    go.count_down();
  });
  // Optionally spread the connection attempts over `ramp` (a burst of
  // simultaneous SYNs overflows short listen backlogs: with SYN cookies the
  // client then waits for a greeting that never comes).
  auto ramp = std::chrono::microseconds(a.num("ramp-ms", 0) * 1000);
  run_threads(clients, [&](int t) {
    go.wait();
    if (ramp.count() > 0) std::this_thread::sleep_until(t0 + ramp * t / clients);
    try {
      Control c(s);
      c.login();
      std::uint64_t n = c.retr(file);
      if (expect >= 0 && n != static_cast<std::uint64_t>(expect)) throw Error("short RETR");
      bytes += n;
      resumed += c.data_resumed();
      c.quit();
      std::lock_guard<std::mutex> lk(mu);
      last_ok = std::max(last_ok, Clock::now());
    } catch (const std::exception& e) {
      errors.add(e);
    }
  });
  starter.join();
  double wall = seconds_since(t0), cpu = cpu_seconds() - cpu0;
  // The aggregate counts the clients that were served, up to the last of them
  // to finish; failed clients show as errors (and in wall_all).
  double served = errors.count() < clients ? std::chrono::duration<double>(last_ok - t0).count() : wall;
  Json j = base("concurrent", served, cpu);
  j.add("wall_all", wall).add("clients", clients).add("bytes", bytes.load());
  j.add("mbps", static_cast<double>(bytes.load()) / served / 1e6).add("data_resumed", resumed.load());
  errors.report(j);
  j.print();
  return 0;
}

int run_login(const Args& a) {
  Settings s = a.settings();
  int count = static_cast<int>(a.num("count", 100));
  int parallel = static_cast<int>(a.num("parallel", 1));
  // At most --count logins, and none started after --seconds.
  auto deadline = Clock::now() + std::chrono::milliseconds(a.num("seconds", 3600) * 1000);
  std::atomic<int> next{0};
  Errors errors;
  std::mutex mu;
  std::vector<double> lat;
  Meter m;
  run_threads(parallel, [&](int) {
    std::vector<double> mine;
    for (int i; (i = next++) < count && Clock::now() < deadline;) {
      auto t0 = Clock::now();
      try {
        Control c(s);
        c.login(false);
        c.quit();
        mine.push_back(seconds_since(t0));
      } catch (const std::exception& e) {
        errors.add(e);
      }
    }
    std::lock_guard<std::mutex> lk(mu);
    lat.insert(lat.end(), mine.begin(), mine.end());
  });
  double wall = m.wall(), cpu = m.cpu();
  Json j = base("login", wall, cpu);
  j.add("parallel", parallel).add("logins", static_cast<int>(lat.size()));
  j.add("logins_per_s", static_cast<double>(lat.size()) / wall);
  j.add("latency_ms_p50", percentile(lat, 0.5) * 1e3).add("latency_ms_p99", percentile(lat, 0.99) * 1e3);
  errors.report(j);
  j.print();
  return errors.count() == 0 ? 0 : 1;
}

int run_idle(const Args& a) {
  set_release_buffers(true);
  Settings s = a.settings();
  int sessions = static_cast<int>(a.num("sessions", 1000));
  int parallel = static_cast<int>(a.num("parallel", 16));
  int hold = static_cast<int>(a.num("hold", 300));
  std::vector<std::unique_ptr<Control>> open(static_cast<std::size_t>(sessions));
  if (a.flag("wait-go")) {
    // Let the harness measure the server's baseline while this process (and
    // the libraries it shares with the server, which lower the server's PSS)
    // already exists; go on at its line on stdin.
    Json started;
    started.add("ok", true).add("workload", "idle").add("started", true);
    started.print();
    if (!wait_stdin_line(hold)) throw Error("no go line on stdin");
  }
  std::atomic<int> next{0};
  Errors errors;
  Meter m;
  run_threads(parallel, [&](int) {
    for (int i; (i = next++) < sessions;) {
      try {
        auto c = std::make_unique<Control>(s);
        c->login(false);
        open[static_cast<std::size_t>(i)] = std::move(c);
      } catch (const std::exception& e) {
        errors.add(e);
      }
    }
  });
  int opened =
      static_cast<int>(std::count_if(open.begin(), open.end(), [](auto& p) { return p != nullptr; }));
  Json j = base("idle", m.wall(), m.cpu());
  j.add("ready", true).add("sessions", opened).add("tls", s.tls);
  errors.report(j);
  j.print();
  // Hold the sessions until the harness says so (a line or EOF on stdin).
  wait_stdin_line(hold);
  open.clear();
  return 0;
}

namespace {

// A listening socket on 127.0.0.1 with a kernel-chosen port (in `sa`).
Socket listen_loopback(sockaddr_in& sa) {
  Socket lst(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sa = sockaddr_in{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(lst.fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lst.fd(), 64) != 0 ||
      ::getsockname(lst.fd(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    throw Error(std::string("listen: ") + std::strerror(errno));
  }
  return lst;
}

// A TLS server context for the in-process ceilings: --cert/--key, TLS 1.3
// (or 1.2 with --tls12), AES-128-GCM.
SSL_CTX* server_context(const Args& a) {
  SSL_CTX* sctx = SSL_CTX_new(TLS_server_method());
  if (a.flag("tls12")) {
    SSL_CTX_set_max_proto_version(sctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(sctx, "ECDHE-ECDSA-AES128-GCM-SHA256");
  } else {
    SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(sctx, a.str("ciphersuite", "TLS_AES_128_GCM_SHA256").c_str());
  }
  static const unsigned char kSidCtx[] = "ftpbench";
  SSL_CTX_set_session_id_context(sctx, kSidCtx, sizeof kSidCtx - 1);
  if (SSL_CTX_use_certificate_chain_file(sctx, a.str("cert").c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(sctx, a.str("key").c_str(), SSL_FILETYPE_PEM) != 1) {
    SSL_CTX_free(sctx);
    throw Error("cannot load --cert/--key");
  }
  return sctx;
}

}  // namespace

int run_tcp_ceiling(const Args& a) {
  auto bytes = static_cast<std::uint64_t>(a.num("bytes", 1LL << 30));
  sockaddr_in sa{};
  Socket lst = listen_loopback(sa);
  std::thread sender([&] {
    Socket s(::accept(lst.fd(), nullptr, nullptr));
    const std::string& block = upload_block();
    std::uint64_t left = bytes;
    while (left > 0) {
      std::size_t n = std::min<std::uint64_t>(left, block.size());
      ssize_t r = ::send(s.fd(), block.data(), n, MSG_NOSIGNAL);
      if (r <= 0) return;
      left -= static_cast<std::uint64_t>(r);
    }
  });
  Meter m;
  Socket c = connect_tcp("127.0.0.1", ntohs(sa.sin_port), 60);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t r = ::recv(c.fd(), nullptr, 4 << 20, MSG_TRUNC);
    if (r <= 0) break;
    total += static_cast<std::uint64_t>(r);
  }
  double wall = m.wall(), cpu = m.cpu();
  sender.join();
  Json j = base("tcp-ceiling", wall, cpu);
  j.add("bytes", total).add("mbps", static_cast<double>(total) / wall / 1e6);
  j.print();
  return total == bytes ? 0 : 1;
}

int run_tls_ceiling(const Args& a) {
  auto bytes = static_cast<std::uint64_t>(a.num("bytes", 1LL << 30));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> sctx(server_context(a), SSL_CTX_free);
  sockaddr_in sa{};
  Socket lst = listen_loopback(sa);
  std::thread sender([&] {
    Socket s(::accept(lst.fd(), nullptr, nullptr));
    SslPtr ssl(SSL_new(sctx.get()));
    SSL_set_fd(ssl.get(), s.fd());
    if (SSL_accept(ssl.get()) != 1) return;
    const std::string& block = upload_block();
    std::uint64_t left = bytes;
    while (left > 0) {
      std::size_t n = std::min<std::uint64_t>(left, block.size()), done = 0;
      if (SSL_write_ex(ssl.get(), block.data(), n, &done) != 1) return;
      left -= done;
    }
    SSL_shutdown(ssl.get());
  });
  Meter m;
  Stream c;
  c.sock = connect_tcp("127.0.0.1", ntohs(sa.sin_port), 60);
  c.ssl.reset(SSL_new(client_context()));
  SSL_set_fd(c.ssl.get(), c.sock.fd());
  if (SSL_connect(c.ssl.get()) != 1) throw Error("TLS handshake failed");
  std::string desc = std::string(SSL_get_version(c.ssl.get())) + " " + SSL_get_cipher_name(c.ssl.get());
  // --to-file: the receiver also writes what it decrypts into a file, as a plain blocking server
  // receiving an upload does (the file is removed at the end).
  const std::string to_file = a.str("to-file");
  // (Socket is the client's descriptor holder: closed on every path.)
  Socket out(to_file.empty() ? -1 : ::open(to_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!to_file.empty() && out.fd() < 0) throw Error("cannot create --to-file " + to_file);
  std::unique_ptr<char[]> buf(new char[256 << 10]);
  std::uint64_t total = 0;
  for (;;) {
    std::size_t r = c.read_some(buf.get(), 256 << 10);
    if (r == 0) break;
    for (std::size_t done = 0; out.fd() >= 0 && done < r;) {
      ssize_t w = ::write(out.fd(), buf.get() + done, r - done);
      if (w <= 0) throw Error("write to --to-file failed");
      done += static_cast<std::size_t>(w);
    }
    total += r;
  }
  double wall = m.wall(), cpu = m.cpu();
  sender.join();
  if (!to_file.empty()) ::unlink(to_file.c_str());
  Json j = base("tls-ceiling", wall, cpu);
  j.add("bytes", total).add("mbps", static_cast<double>(total) / wall / 1e6).add("tls", desc);
  j.print();
  return total == bytes ? 0 : 1;
}

// Resumed TLS handshakes over loopback, both ends in this process, each
// carrying 4 KiB: what any OpenSSL client and server pair can do per data
// connection on this machine, without FTP.
int run_handshake_ceiling(const Args& a) {
  int count = static_cast<int>(a.num("count", 2000));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> sctx(server_context(a), SSL_CTX_free);
  sockaddr_in sa{};
  Socket lst = listen_loopback(sa);
  std::thread server([&] {
    const std::string& block = upload_block();
    for (int i = 0; i < count + 1; ++i) {
      Socket s(::accept(lst.fd(), nullptr, nullptr));
      SslPtr ssl(SSL_new(sctx.get()));
      SSL_set_fd(ssl.get(), s.fd());
      if (SSL_accept(ssl.get()) != 1) return;
      std::size_t done = 0;
      SSL_write_ex(ssl.get(), block.data(), 4096, &done);
      SSL_shutdown(ssl.get());
    }
  });
  SessionPtr session;
  int resumed = 0;
  auto one = [&] {
    Stream c;
    c.sock = connect_tcp("127.0.0.1", ntohs(sa.sin_port), 60);
    c.ssl.reset(SSL_new(client_context()));
    SSL_set_fd(c.ssl.get(), c.sock.fd());
    if (session) SSL_set_session(c.ssl.get(), session.get());
    if (SSL_connect(c.ssl.get()) != 1) throw Error("TLS handshake failed");
    char buf[8192];
    while (c.read_some(buf, sizeof buf) > 0) {
    }
    resumed += SSL_session_reused(c.ssl.get());
    session.reset(SSL_get1_session(c.ssl.get()));
    SSL_set_shutdown(c.ssl.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  };
  one();  // the full handshake that yields the first ticket
  resumed = 0;
  Meter m;
  for (int i = 0; i < count; ++i) one();
  double wall = m.wall(), cpu = m.cpu();
  server.join();
  Json j = base("handshake-ceiling", wall, cpu);
  j.add("handshakes", count).add("resumed", resumed).add("per_s", count / wall);
  j.print();
  return resumed == count ? 0 : 1;
}

}  // namespace ftpbench
