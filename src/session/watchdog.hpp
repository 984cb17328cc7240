#pragma once
// Ends a session that is idle too long (never during a command or a transfer), not logged in within
// server.login_timeout, still open at a graceful stop, or whose client has left a reply unread for
// server.data_timeout (checked from the idle deadline on; then the control connection is abandoned). A timer
// with a callback rather than a coroutine raced against the control loop: an idle session carries no frame
// for it. When it decides that the session must end, it calls end_session(); the control loop then sends
// the 421 (session.cpp). An administrator's request to end a session (SessionRegistry::end) takes the
// same path.
#include <cstdint>
#include <memory>

#include "runtime/asio.hpp"
#include "session/clock.hpp"
#include "session/stop_notice.hpp"

namespace ftpsd::session {

class SessionContext;
enum class EndReason : std::uint8_t;

// Ends the session for `reason`: records it in SessionContext::end_reason, aborts a running transfer
// (whose 426 then goes before the 421) and cancels the read of the control connection, or, for
// kNotReading, abandons the control connection. On the session's loop; nothing when the session is
// already ending.
void end_session(SessionContext& ctx, EndReason reason);

class Watchdog final : public StopNotice::Listener,
                       public Clock::Alarm,
                       public std::enable_shared_from_this<Watchdog> {
 public:
  // Armed at once; `ctx` must call detach() before it is destroyed.
  static std::shared_ptr<Watchdog> start(SessionContext& ctx);
  explicit Watchdog(SessionContext& ctx);
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  ~Watchdog() = default;

  // At the end of the session: no more checks. A callback still queued finds no session and does
  // nothing; it holds the watchdog alive until then.
  void detach();
  void on_stop() override { check(); }
  // The deadline has come (Services::clock).
  void ring() override {
    if (ctx_ != nullptr) check();
  }

 private:
  // Decides: the session ends now, or the timer is armed for the next deadline.
  void check();
  void arm(Clock::time_point at);

  SessionContext* ctx_;
  asio::steady_timer timer_;  // the clock's (Clock::wait_until)
};

}  // namespace ftpsd::session
