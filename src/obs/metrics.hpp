#pragma once
// The server's counters for the Prometheus endpoint (metrics.address). Updated on the hot path with
// relaxed atomic increments only (never per byte: a transfer adds its bytes once, at its end); read
// when /metrics is scraped. One process-wide instance: metrics().
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ftpsd::obs {

using Counter = std::atomic<std::uint64_t>;

// Fixed-bucket histogram of durations in seconds (Prometheus buckets are cumulative; ours are not,
// the exposition adds them up).
class DurationHistogram {
 public:
  static constexpr std::array<double, 12> kBounds{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600};
  void observe(std::chrono::steady_clock::duration d) noexcept;
  [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {  // i == kBounds.size(): +Inf
    return counts_[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] double sum_seconds() const noexcept {
    return static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6;
  }

 private:
  std::array<Counter, kBounds.size() + 1> counts_{};
  Counter sum_us_{0};
};

enum class Direction : std::uint8_t { kIn, kOut };  // upload, download
enum class Channel : std::uint8_t { kControl, kData };
enum class Handshake : std::uint8_t { kFull, kResumed, kFailed };
// Why a data connection failed (DataError, plus the TLS causes).
enum class DataFailure : std::uint8_t {
  kNoPassivePort,
  kBindFailed,
  kTimeout,
  kConnectFailed,
  kTlsHandshake,
  kTlsReuseRefused,  // a protected data connection that did not resume the control connection's session
  kCount
};

struct Metrics {
  Counter sessions_total{0};                    // control connections accepted into a session
  Counter sessions_refused{0};                  // refused at server.max_sessions
  std::atomic<std::int64_t> sessions_tls{0};    // now, with a TLS control connection
  std::atomic<std::int64_t> sessions_plain{0};  // now, in clear text
  Counter logins_ok{0};
  Counter logins_failed{0};
  // Connections or logins refused by a limit or a ban.
  Counter refused_banned{0};    // a connection from a banned address
  Counter refused_per_ip{0};    // server.max_sessions_per_ip
  Counter refused_per_user{0};  // a login over the user's session limit
  Counter protocol_abuse{0};    // refused PORT/EPRT bounces, foreign data connections
  Counter bans_started{0};
  std::array<Counter, 2> transfers_complete{};    // by Direction
  std::array<Counter, 2> transfers_incomplete{};  // by Direction
  std::array<Counter, 2> transfer_bytes{};        // by Direction
  std::array<DurationHistogram, 2> transfer_seconds;
  std::array<std::array<Counter, 3>, 2> handshakes{};  // [Channel][Handshake]
  std::array<Counter, static_cast<std::size_t>(DataFailure::kCount)> data_failures{};
  // Protected data connections accepted without resuming the TLS session (session_reuse = "report",
  // or after CCC from the client's address); the refused ones are DataFailure::kTlsReuseRefused.
  Counter tls_reuse_reported{0};
  Counter active_connects_ok{0};
  Counter active_connects_failed{0};
  Counter reloads_ok{0};
  Counter reloads_failed{0};

  void transfer(Direction d, bool complete, std::uint64_t bytes,
                std::chrono::steady_clock::duration took) noexcept;
  void handshake(Channel c, Handshake h) noexcept {
    handshakes[static_cast<std::size_t>(c)][static_cast<std::size_t>(h)].fetch_add(1,
                                                                                   std::memory_order_relaxed);
  }
  void data_failure(DataFailure f) noexcept {
    data_failures[static_cast<std::size_t>(f)].fetch_add(1, std::memory_order_relaxed);
  }
};

[[nodiscard]] Metrics& metrics() noexcept;

// Counts one session in sessions_plain or sessions_tls for as long as it lives: the one place that
// decides which of the two a session is in. The session starts in clear text and moves with its
// control connection (AUTH TLS or implicit TLS, CCC); however it ends (a failed handshake, an
// error, QUIT), its destructor takes it out of the gauge it is in, so both return to 0.
class SessionGauge {
 public:
  SessionGauge() noexcept { gauge().fetch_add(1, std::memory_order_relaxed); }
  ~SessionGauge() { gauge().fetch_sub(1, std::memory_order_relaxed); }
  SessionGauge(const SessionGauge&) = delete;
  SessionGauge& operator=(const SessionGauge&) = delete;

  void set_tls(bool tls) noexcept {
    if (tls == tls_) return;
    gauge().fetch_sub(1, std::memory_order_relaxed);
    tls_ = tls;
    gauge().fetch_add(1, std::memory_order_relaxed);
  }
  [[nodiscard]] bool tls() const noexcept { return tls_; }

 private:
  [[nodiscard]] std::atomic<std::int64_t>& gauge() const noexcept {
    return tls_ ? metrics().sessions_tls : metrics().sessions_plain;
  }
  bool tls_ = false;
};

inline void count(Counter& c) noexcept {
  c.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace ftpsd::obs
