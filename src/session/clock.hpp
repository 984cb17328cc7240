#pragma once
// The time a session reads: its last activity, its connection time, how long a reply has waited for
// the client, and the watchdog's deadlines. In production the steady clock and an Asio timer; the
// session tests (tests/session) put a manual clock in its place, whose advance() fires the deadlines
// that have come, so that timeouts are tested without waiting.
#include <chrono>
#include <memory>

#include "runtime/asio.hpp"

namespace ftpsd::session {

class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  // What a deadline calls when it has come.
  class Alarm {
   public:
    virtual void ring() = 0;

   protected:
    ~Alarm() = default;
  };

  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  // Also read from other threads (the session registry's idle times): the steady clock may be; the
  // session tests read their manual clock on the thread that moves it.
  [[nodiscard]] virtual time_point now() const noexcept = 0;
  // Calls alarm->ring() on `timer`'s executor once now() has reached `at`. Replaces the deadline
  // `timer` had: that one never rings. The pending deadline holds `alarm` until it rings or is
  // cancelled.
  virtual void wait_until(asio::steady_timer& timer, time_point at, std::shared_ptr<Alarm> alarm) = 0;
  // `timer`'s deadline (if any) never rings.
  virtual void cancel(asio::steady_timer& timer) noexcept = 0;

  // The production clock: std::chrono::steady_clock and the timers themselves.
  static Clock& steady() noexcept;

 protected:
  ~Clock() = default;
};

}  // namespace ftpsd::session
