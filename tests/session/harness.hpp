#pragma once
// SessionHarness: real sessions (the real Services, a users file, LocalFs on a temporary folder, data
// connections over real loopback sockets) whose control connections are in memory and whose clock is
// manual. The test drives everything from its own thread: it writes commands, runs the event loop until
// the reply it waits for has come (bounded in real time), or until nothing more can happen without it
// (run_until_idle), and moves the clock (advance).
//
//   SessionHarness h;
//   auto c = h.connect();          // greeting read
//   c->login();
//   c->send("PWD");
//   c->expect(257);
//   h.advance(std::chrono::seconds(61));
//   EXPECT_EQ(c->reply(), "421 Idle timeout: closing control connection.\r\n");
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manual_clock.hpp"
#include "memory_transport.hpp"
#include "runtime/asio.hpp"
#include "runtime/blocking_pool.hpp"
#include "session/services.hpp"
#include "test_dir.hpp"

namespace ftpsd::test {

class SessionHarness;

// One client: the test's end of one session's control connection.
class SessionClient {
 public:
  SessionClient(SessionHarness& harness, std::shared_ptr<MemoryPipe> pipe)
      : harness_(harness), end_(std::move(pipe)) {}

  // `line` and CRLF.
  void send(std::string_view line);
  // Bytes as they are (several commands at once, Telnet sequences, a line without its end).
  void send_raw(std::string_view bytes);
  // The next whole reply (all lines of a multi-line one, with their CRLFs). Runs the loop until it has
  // come; after a bounded real time (a hung session) the test fails and "" is returned.
  std::string reply();
  // reply(), which must have this code.
  std::string expect(int code);
  // send(line), then expect(code).
  std::string cmd(std::string_view line, int code);
  // Runs the loop until nothing more can happen: true when no byte of a reply is waiting.
  [[nodiscard]] bool silent();
  // Runs the loop until nothing more can happen: true when the server has closed the connection.
  [[nodiscard]] bool closed();
  void login(std::string_view user = "alice");
  // PASV (or EPSV), then a data connection to the port it names. `receive_buffer` (bytes, 0: the
  // kernel's default) bounds what the server can send before the test reads.
  asio::ip::tcp::socket pasv(int receive_buffer = 0);
  asio::ip::tcp::socket epsv(int receive_buffer = 0);
  // The client closes the control connection.
  void close() { end_.close(); }
  MemoryClient& end() { return end_; }

 private:
  SessionHarness& harness_;
  MemoryClient end_;
};

struct HarnessOptions {
  std::string server;  // lines for [server], e.g. "idle_timeout = \"10s\""
  std::string extra;   // more tables
};

class SessionHarness {
 public:
  explicit SessionHarness(HarnessOptions options = {});
  ~SessionHarness();
  SessionHarness(const SessionHarness&) = delete;
  SessionHarness& operator=(const SessionHarness&) = delete;

  // A new session; its greeting (220) is read unless `greet` is false. `client`: the client's address
  // from a PROXY protocol header (without one, the session sees 127.0.0.1).
  std::unique_ptr<SessionClient> connect(bool greet = true,
                                         std::optional<asio::ip::address> client = std::nullopt);

  // Runs the loop until `done()` (true) or a bounded real time (false: the test fails).
  bool run_until(const std::function<bool()>& done);
  // Runs the loop until nothing more can happen without the test: no handler ready and no work left on
  // the worker pool.
  void run_until_idle();
  // Moves the manual clock by `d`, stopping at each deadline on the way (and running the loop there),
  // as time passing would.
  void advance(std::chrono::steady_clock::duration d);
  // A graceful stop (what SIGTERM does): sessions end now, or at `deadline` from now when busy.
  void stop(std::chrono::steady_clock::duration deadline);

  // Data connections (on the same loop, driven by these helpers).
  asio::ip::tcp::socket connect_data(std::uint16_t port, int receive_buffer = 0);
  // Reads until the server closes the data connection.
  std::string read_all(asio::ip::tcp::socket& data);
  // Reads exactly `n` bytes.
  std::string read_n(asio::ip::tcp::socket& data, std::size_t n);
  // Writes `bytes` (running the loop meanwhile, so that the server reads them).
  void write_all(asio::ip::tcp::socket& data, std::string_view bytes);

  // The user's root folder (alice may write, bob may only read).
  [[nodiscard]] std::filesystem::path root(std::string_view user = "alice") const;
  void write_file(std::string_view name, std::string_view content, std::string_view user = "alice") const;
  // A file of `size` zeros that costs nothing (sparse): a RETR of 1 GiB runs until the test ends it.
  void write_sparse(std::string_view name, std::uint64_t size) const;
  [[nodiscard]] std::string read_file(std::string_view name, std::string_view user = "alice") const;
  // The session log so far (one entry a line, without the time and level).
  [[nodiscard]] std::vector<std::string> log() const;
  [[nodiscard]] bool logged(std::string_view text) const;

  ManualClock& clock() { return clock_; }
  session::Services& services() { return *services_; }
  asio::io_context& io() { return io_; }

 private:
  void wait_for_pool();

  TempDir dir_{"session"};
  asio::io_context io_;
  ManualClock clock_;
  runtime::BlockingPool pool_{1};
  std::unique_ptr<session::Services> services_;
  config::ListenerConfig listener_;
  std::vector<std::weak_ptr<MemoryPipe>> pipes_;
  struct LogSink;
  std::shared_ptr<LogSink> sink_;
};

// "227 Entering Passive Mode (127,0,0,1,p1,p2)." / "229 ... (|||port|)": the port; 0 when none.
[[nodiscard]] std::uint16_t passive_port(std::string_view reply);

// `n` bytes that are not all alike (a shifted or truncated copy does not compare equal).
[[nodiscard]] std::string pattern(std::size_t n);

inline constexpr std::size_t kMiB = 1 << 20;
// The receive buffer of a data connection the test reads late (pasv(kSmallWindow)): what the server can
// send ahead is this and its own send buffer (at most 4 MiB, tcp_wmem), less than a file of kHeldBack
// bytes. A RETR of such a file is still running when the test starts to read.
inline constexpr int kSmallWindow = 256 * 1024;
inline constexpr std::size_t kHeldBack = 6 * kMiB;

}  // namespace ftpsd::test
