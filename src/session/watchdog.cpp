#include "session/watchdog.hpp"

#include "session/context.hpp"

namespace ftpsd::session {

std::shared_ptr<Watchdog> Watchdog::start(SessionContext& ctx) {
  auto dog = std::make_shared<Watchdog>(ctx);
  ctx.services.stop_notice.listen(dog->timer_.get_executor(), *dog);
  dog->check();
  return dog;
}

Watchdog::Watchdog(SessionContext& ctx) : ctx_(&ctx), timer_(ctx.control.executor()) {}

void Watchdog::detach() {
  if (ctx_ == nullptr) return;
  ctx_->services.stop_notice.unlisten(timer_.get_executor(), *this);
  ctx_->services.clock->cancel(timer_);
  ctx_ = nullptr;
}

void Watchdog::arm(Clock::time_point at) {
  // Replaces the previous deadline, which then never rings.
  ctx_->services.clock->wait_until(timer_, at, shared_from_this());
}

void Watchdog::check() {
  if (ctx_ == nullptr || ctx_->end_reason != EndReason::kNone) return;
  SessionContext& ctx = *ctx_;
  const auto& server = ctx.config->server;
  const auto now = ctx.now();
  const bool busy = ctx.command_running || ctx.transfer.active();
  EndReason reason = EndReason::kNone;
  const auto writing = ctx.control.writing_since();
  if (writing && now - *writing >= server.data_timeout) {
    // SECURITY: a client that stops reading its replies (while a transfer keeps the session busy)
    // would otherwise hold its session for ever.
    reason = EndReason::kNotReading;
  } else if (ctx.services.stopping.load(std::memory_order_relaxed)) {
    // Graceful stop: idle sessions end now; a running command or transfer may finish until the
    // deadline (server.shutdown_timeout), then the transfer is aborted (426) and the session ends.
    const bool late = now >= ctx.services.stop_deadline.load(std::memory_order_relaxed);
    if (!busy || late) reason = EndReason::kStopping;
  } else if (!busy) {
    if (!ctx.state.logged_in() && now - ctx.connected_at > server.login_timeout)
      reason = EndReason::kLoginTimeout;
    else if (now - ctx.last_activity > server.idle_timeout)
      reason = EndReason::kIdleTimeout;
  }
  if (reason == EndReason::kNone) {
    // Sleeps until the next deadline, not a fixed tick: 10,000 idle sessions cost no wake-ups. A
    // command or a transfer moves the deadline; the check then just sleeps again. While busy (or
    // stopping with a transfer running) it looks again every second.
    const auto deadline = ctx.state.logged_in() ? ctx.last_activity + server.idle_timeout
                                                : std::min(ctx.connected_at + server.login_timeout,
                                                           ctx.last_activity + server.idle_timeout);
    const bool stopping = ctx.services.stopping.load(std::memory_order_relaxed);
    arm(busy || stopping ? now + std::chrono::seconds(1) : deadline);
    return;
  }
  end_session(ctx, reason);
}

void end_session(SessionContext& ctx, EndReason reason) {
  if (reason == EndReason::kNone || ctx.end_reason != EndReason::kNone) return;
  ctx.end_reason = reason;
  if (reason == EndReason::kNotReading) {
    ctx.log(spdlog::level::warn, "timeout", "the client has not read its replies for {}s: closing",
            std::chrono::duration_cast<std::chrono::seconds>(ctx.config->server.data_timeout).count());
    ctx.transfer.abort();
    ctx.control.abandon();  // the stuck write fails, and so does every later one: the session ends
    return;
  }
  if (reason == EndReason::kStopping && ctx.transfer.active())
    ctx.log(spdlog::level::info, "shutdown", "server stopping: transfer aborted at server.shutdown_timeout");
  ctx.transfer.abort();  // its 426 goes first (say_goodbye waits for it)
  // Wakes the control loop, which sends the 421 and ends the session.
  ctx.control.cancel();
}

}  // namespace ftpsd::session
