#pragma once
// A clock that moves only when a test says so. Deadlines (Clock::wait_until) ring, on their timer's
// event loop, once set()/advance() has moved the time to them: timeouts are tested without waiting.
#include <optional>
#include <vector>

#include "session/clock.hpp"

namespace ftpsd::test {

class ManualClock final : public session::Clock {
 public:
  // Starts at the steady clock's present (any start would do; this one reads well in logs).
  ManualClock() : now_(std::chrono::steady_clock::now()) {}

  [[nodiscard]] time_point now() const noexcept override { return now_; }
  void wait_until(asio::steady_timer& timer, time_point at, std::shared_ptr<Alarm> alarm) override;
  void cancel(asio::steady_timer& timer) noexcept override;

  // The earliest deadline still pending.
  [[nodiscard]] std::optional<time_point> next_deadline() const;
  // Moves the time to `t` (never back) and posts the ring of every deadline that has come, earliest
  // first. The test then runs the loop.
  void set(time_point t);
  [[nodiscard]] std::size_t pending() const { return deadlines_.size(); }

 private:
  struct Deadline {
    asio::steady_timer* timer;
    time_point at;
    std::shared_ptr<Alarm> alarm;
  };

  time_point now_;
  std::vector<Deadline> deadlines_;
};

}  // namespace ftpsd::test
