#include "app/systemd.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ftpsd::app {
namespace {

void notify(const std::string& state) {
  (void)sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready() {
  notify("READY=1");
}

void notify_reloading() {
  // CLOCK_MONOTONIC, which steady_clock is on Linux.
  const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
  notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", usec));
}

void notify_stopping() {
  notify("STOPPING=1");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

void notify_watchdog() {
  notify("WATCHDOG=1");
}

// systemd's watchdog: WATCHDOG=1 every half interval as long as every event loop has run a handler
// within the interval. A loop that hangs (a bug, a blocking call) stops the pings, and systemd kills and
// restarts ftpsd (Restart=on-failure). The worker pool is not watched: a slow disk is no reason to die.
Task<void> feed_watchdog(runtime::IoPool& pool, std::chrono::microseconds interval) {
  using Clock = std::chrono::steady_clock;
  const auto n = pool.size();
  // When each loop last ran the probe; shared with the probes still queued.
  auto seen = std::make_shared<std::vector<std::atomic<Clock::time_point>>>(n);
  for (auto& s : *seen) s = Clock::now();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto now = Clock::now();
    bool alive = true;
    for (const auto& s : *seen) alive = alive && now - s.load() < interval;
    if (alive) notify_watchdog();
    for (std::size_t i = 0; i < n; ++i) asio::post(pool.at(i), [seen, i] { (*seen)[i] = Clock::now(); });
    timer.expires_after(interval / 2);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return;
  }
}

}  // namespace ftpsd::app
