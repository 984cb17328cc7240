#pragma once
// Wakes every session at a graceful stop without a periodic tick: one timer per event loop that
// never expires on its own; the sessions' watchdogs wait on their loop's timer beside their own
// deadline, and notify() cancels them all (each on its own loop), which wakes every waiter at once.
#include <map>
#include <memory>

#include "runtime/asio.hpp"

namespace ftpsd::session {

class StopNotice {
 public:
  // Before the loops run: one timer for each.
  void add(asio::io_context& ctx) {
    timers_.emplace(&ctx, std::make_unique<asio::steady_timer>(ctx, asio::steady_timer::time_point::max()));
  }
  // The timer of the loop `ex` runs on; null for a loop that was not added (unit tests).
  [[nodiscard]] asio::steady_timer* timer_for(const asio::any_io_executor& ex) const {
    auto it = timers_.find(&asio::query(ex, asio::execution::context));
    return it == timers_.end() ? nullptr : it->second.get();
  }
  // Thread-safe: each timer is cancelled on its own loop.
  void notify() const {
    for (const auto& [ctx, timer] : timers_)
      asio::post(timer->get_executor(), [t = timer.get()] { t->cancel(); });
  }

 private:
  std::map<asio::execution_context*, std::unique_ptr<asio::steady_timer>> timers_;
};

}  // namespace ftpsd::session
