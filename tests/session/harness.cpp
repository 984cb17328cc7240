#include "harness.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <fstream>
#include <sstream>

#include "auth/user_store.hpp"
#include "config/loader.hpp"
#include "net/passive_address_policy.hpp"
#include "net/passive_port_pool.hpp"
#include "session/session.hpp"

namespace ftpsd::test {
namespace {

using namespace std::chrono_literals;

// How long a test waits in real time for what must come at once (a reply, the end of a transfer);
// generous for the sanitizer build on a loaded machine. Reached only by a hung or broken session.
constexpr auto kPatience = 20s;

const auto kLoopback = asio::ip::make_address("127.0.0.1");

// `openssl passwd -6 -salt harness alice-secret` / `... bob-secret`.
constexpr std::string_view kAliceHash =
    "$6$harness$92VsyElpvlIBAek9mKTpJ/qu5YcYrFaLEz8yguZm9fUXuzLNEGzqp3nRzq.tPSg.L2H6bjD2aq7T/u0JHN0q/0";
constexpr std::string_view kBobHash =
    "$6$harness$ErcjWN4o7u/JT711rFhRH4hnTuzeyi3jRfvG2AsM2LE.CNqtm3a8onLbddJh1b/UW3Wm9BF/WajDipWTgLWDC.";

// The length of the first whole reply in `bytes` (multi-line aware); 0 when it has not fully come.
std::size_t reply_length(std::string_view bytes) {
  std::size_t pos = 0;
  bool first = true;
  std::string_view code;
  for (;;) {
    const auto nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) return 0;
    const std::string_view line = bytes.substr(pos, nl + 1 - pos);
    pos = nl + 1;
    if (first) {
      first = false;
      if (line.size() < 4 || line[3] != '-') return pos;
      code = line.substr(0, 3);
      continue;
    }
    if (line.size() >= 4 && line.substr(0, 3) == code && line[3] == ' ') return pos;
  }
}

}  // namespace

// The session log, kept for the test (the text after "s=<id> <client> <user> " included).
struct SessionHarness::LogSink final : spdlog::sinks::base_sink<std::mutex> {
  std::vector<std::string> lines;

  std::vector<std::string> copy() {
    std::lock_guard lock(mutex_);
    return lines;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}
};

std::uint16_t passive_port(std::string_view reply) {
  unsigned value = 0;
  if (const auto bar = reply.find("(|||"); bar != std::string_view::npos) {
    const auto digits = reply.substr(bar + 4);
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    return static_cast<std::uint16_t>(value);
  }
  const auto open = reply.find('(');
  const auto close = reply.find(')', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return 0;
  std::vector<unsigned> nums;
  std::string_view inner = reply.substr(open + 1, close - open - 1);
  while (!inner.empty()) {
    const auto comma = inner.find(',');
    const auto part = inner.substr(0, comma);
    unsigned n = 0;
    std::from_chars(part.data(), part.data() + part.size(), n);
    nums.push_back(n);
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
  }
  if (nums.size() != 6) return 0;
  return static_cast<std::uint16_t>(nums[4] * 256 + nums[5]);
}

// ---- SessionClient

void SessionClient::send(std::string_view line) {
  end_.write(std::string(line) + "\r\n");
}

void SessionClient::send_raw(std::string_view bytes) {
  end_.write(bytes);
}

std::string SessionClient::reply() {
  std::size_t n = 0;
  const bool came = harness_.run_until([&] {
    n = reply_length(end_.pending());
    return n > 0 || end_.server_closed();
  });
  if (!came || n == 0) {
    ADD_FAILURE() << "no reply" << (end_.server_closed() ? " (the server closed the connection)" : "")
                  << "; received so far: \"" << end_.pending() << "\"";
    return {};
  }
  std::string out = end_.pending().substr(0, n);
  end_.consume(n);
  return out;
}

std::string SessionClient::expect(int code) {
  std::string r = reply();
  EXPECT_TRUE(r.starts_with(std::to_string(code))) << "expected " << code << ", got \"" << r << "\"";
  return r;
}

std::string SessionClient::cmd(std::string_view line, int code) {
  send(line);
  std::string r = reply();
  EXPECT_TRUE(r.starts_with(std::to_string(code)))
      << line << ": expected " << code << ", got \"" << r << "\"";
  return r;
}

bool SessionClient::silent() {
  harness_.run_until_idle();
  return end_.pending().empty();
}

bool SessionClient::closed() {
  harness_.run_until_idle();
  return end_.server_closed();
}

void SessionClient::login(std::string_view user) {
  cmd(fmt::format("USER {}", user), 331);
  cmd(fmt::format("PASS {}-secret", user), 230);
}

asio::ip::tcp::socket SessionClient::pasv(int receive_buffer) {
  const auto port = passive_port(cmd("PASV", 227));
  return harness_.connect_data(port, receive_buffer);
}

asio::ip::tcp::socket SessionClient::epsv(int receive_buffer) {
  const auto port = passive_port(cmd("EPSV", 229));
  return harness_.connect_data(port, receive_buffer);
}

// ---- SessionHarness

SessionHarness::SessionHarness(HarnessOptions options) : sink_(std::make_shared<LogSink>()) {
  auto logger = std::make_shared<spdlog::logger>("session-test", sink_);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);

  const auto& base = dir_.path();
  for (const auto* user : {"alice", "bob"}) std::filesystem::create_directories(base / "home" / user);
  std::ofstream(base / "users.toml") << fmt::format(
      "[[users]]\nname = \"alice\"\npassword_hash = \"{}\"\nroot = \"{}\"\nwrite = true\n\n"
      "[[users]]\nname = \"bob\"\npassword_hash = \"{}\"\nroot = \"{}\"\nwrite = false\n",
      kAliceHash, (base / "home" / "alice").string(), kBobHash, (base / "home" / "bob").string());
  // Passive ports from the kernel; no delay before a 530 (it would be a real wait).
  const std::string toml = fmt::format(
      "[[listeners]]\naddress = \"127.0.0.1:0\"\n\n[server]\n{}\n\n[users]\nfile = \"users.toml\"\n\n"
      "[bans]\nlogin_delay = \"0s\"\n\n[log]\nlevel = \"debug\"\n{}\n",
      options.server, options.extra);
  auto cfg = config::load_string(toml, base / "ftpsd.toml", base);
  if (!cfg) throw std::runtime_error("harness configuration: " + cfg.error().message);
  auto config = std::make_shared<const config::Config>(std::move(*cfg));
  auto users = auth::UserStore::load(config->users.file);
  if (!users) throw std::runtime_error("harness users: " + users.error().message);
  listener_ = config->listeners.front();
  auto domain = std::make_shared<session::Domain>(
      session::Domain{.name = "default",
                      .hosts = {},
                      .config = config,
                      .users = std::make_shared<const auth::UserStore>(std::move(*users)),
                      .passive_policy = std::make_shared<net::PassiveAddressPolicy>(config->passive),
                      .ports = std::make_shared<net::PassivePortPool>(config->passive.ports),
                      .tls = nullptr});
  services_ = std::make_unique<session::Services>(
      session::Snapshot{.config = config, .domains = {std::move(domain)}}, pool_, nullptr);
  services_->clock = &clock_;
  services_->stop_notice.add(io_);
}

SessionHarness::~SessionHarness() {
  // Every client goes; every session ends on its own (the transfer it runs is aborted, its data
  // connection closed), before the loop and the services it uses go.
  for (auto& weak : pipes_) {
    if (auto pipe = weak.lock()) {
      pipe->client_closed = true;
      pipe->wake();
    }
  }
  const auto all_gone = [&] {
    for (auto& weak : pipes_) {
      auto pipe = weak.lock();
      if (pipe && pipe->server_alive) return false;
    }
    return true;
  };
  if (!run_until(all_gone)) ADD_FAILURE() << "a session did not end when its client went";
  run_until_idle();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("none"));
}

std::unique_ptr<SessionClient> SessionHarness::connect(bool greet, std::optional<asio::ip::address> client) {
  auto pipe = std::make_shared<MemoryPipe>(io_.get_executor());
  pipes_.push_back(pipe);
  auto end = std::make_unique<SessionClient>(*this, pipe);
  services_->sessions.fetch_add(1, std::memory_order_relaxed);  // as the accept loop counts it
  session::start_session(std::make_unique<MemoryTransport>(pipe, kLoopback, kLoopback), *services_,
                         services_->snapshot(), listener_, session::Admission(services_->sessions), client);
  if (greet) end->expect(220);
  return end;
}

bool SessionHarness::run_until(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    if (io_.stopped()) io_.restart();
    io_.run_one_for(10ms);
  }
  return true;
}

void SessionHarness::wait_for_pool() {
  // One worker: a job posted now runs after every job posted before it.
  std::mutex m;
  std::condition_variable cv;
  bool ran = false;
  pool_.post([&] {
    std::lock_guard lock(m);
    ran = true;
    cv.notify_one();
  });
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return ran; });
}

void SessionHarness::run_until_idle() {
  for (int round = 0;; ++round) {
    if (io_.stopped()) io_.restart();
    std::size_t ran = 0;
    while (const auto n = io_.poll()) {
      ran += n;
      if (io_.stopped()) io_.restart();
    }
    wait_for_pool();
    if (io_.stopped()) io_.restart();
    ran += io_.poll();
    if (ran == 0) return;
    ASSERT_LT(round, 100000) << "the session never comes to rest";
  }
}

void SessionHarness::advance(std::chrono::steady_clock::duration d) {
  run_until_idle();
  const auto target = clock_.now() + d;
  for (int steps = 0;; ++steps) {
    const auto next = clock_.next_deadline();
    if (!next || *next > target) break;
    ASSERT_LT(steps, 10'000) << "deadlines without end";
    // A deadline armed for the present (a check that found its deadline not quite passed) rings a tick
    // later, as it would with a clock that moves on by itself.
    clock_.set(std::max(*next, clock_.now() + ManualClock::duration(1)));
    run_until_idle();
  }
  clock_.set(target);
  run_until_idle();
}

void SessionHarness::stop(std::chrono::steady_clock::duration deadline) {
  services_->stop_deadline.store(clock_.now() + deadline);
  services_->stopping.store(true);
  services_->stop_notice.notify();
  run_until_idle();
}

asio::ip::tcp::socket SessionHarness::connect_data(std::uint16_t port, int receive_buffer) {
  asio::ip::tcp::socket s(io_);
  std::error_code ec;
  s.open(asio::ip::tcp::v4(), ec);
  if (receive_buffer > 0) s.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
  // The kernel completes a loopback connection to a listening port at once (the server accepts it
  // later, when the transfer command asks for it).
  if (!ec) s.connect({kLoopback, port}, ec);
  EXPECT_FALSE(ec) << "data connection to port " << port << ": " << ec.message();
  return s;
}

std::string SessionHarness::read_all(asio::ip::tcp::socket& data) {
  std::string out;
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> Task<void> {
        std::array<char, 65536> buf{};
        for (;;) {
          auto [ec, n] = co_await data.async_read_some(asio::buffer(buf), kTuple);
          out.append(buf.data(), n);
          if (ec) break;
        }
        done = true;
      },
      asio::detached);
  if (!run_until([&] { return done; })) {
    ADD_FAILURE() << "the data connection was never closed";
    std::error_code ignored;
    data.close(ignored);  // ends the read or write, whose frame refers to this function's locals
    run_until([&] { return done; });
  }
  std::error_code ignored;
  data.close(ignored);
  return out;
}

std::string SessionHarness::read_n(asio::ip::tcp::socket& data, std::size_t n) {
  std::string out(n, '\0');
  bool done = false;
  std::error_code error;
  asio::co_spawn(
      io_,
      [&]() -> Task<void> {
        auto [ec, got] = co_await asio::async_read(data, asio::buffer(out), kTuple);
        out.resize(got);
        error = ec;
        done = true;
      },
      asio::detached);
  if (!run_until([&] { return done; })) {
    ADD_FAILURE() << "fewer than " << n << " bytes came";
    std::error_code ignored;
    data.close(ignored);  // ends the read or write, whose frame refers to this function's locals
    run_until([&] { return done; });
  }
  EXPECT_FALSE(error) << error.message();
  return out;
}

void SessionHarness::write_all(asio::ip::tcp::socket& data, std::string_view bytes) {
  bool done = false;
  std::error_code error;
  asio::co_spawn(
      io_,
      [&]() -> Task<void> {
        auto [ec, n] = co_await asio::async_write(data, asio::buffer(bytes), kTuple);
        error = ec;
        done = true;
      },
      asio::detached);
  if (!run_until([&] { return done; })) {
    ADD_FAILURE() << "the server never read the data";
    std::error_code ignored;
    data.close(ignored);  // ends the read or write, whose frame refers to this function's locals
    run_until([&] { return done; });
  }
  EXPECT_FALSE(error) << error.message();
}

std::filesystem::path SessionHarness::root(std::string_view user) const {
  return dir_.path() / "home" / std::string(user);
}

void SessionHarness::write_file(std::string_view name, std::string_view content,
                                std::string_view user) const {
  std::ofstream(root(user) / std::string(name), std::ios::binary) << content;
}

void SessionHarness::write_sparse(std::string_view name, std::uint64_t size) const {
  const auto path = root() / std::string(name);
  std::ofstream{path};
  std::filesystem::resize_file(path, size);
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

std::string SessionHarness::read_file(std::string_view name, std::string_view user) const {
  std::ifstream in(root(user) / std::string(name), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SessionHarness::log() const {
  return sink_->copy();
}

bool SessionHarness::logged(std::string_view text) const {
  for (const auto& line : sink_->copy())
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace ftpsd::test
