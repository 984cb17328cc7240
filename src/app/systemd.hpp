#pragma once
// sd_notify(3) for Type=notify units: READY=1 once listening, RELOADING=1 (with MONOTONIC_USEC, as
// systemd 253+ wants) and READY=1 around a reload, STOPPING=1 at a stop, WATCHDOG=1 while every event
// loop runs. Without NOTIFY_SOCKET (not started by systemd) every call does nothing.
#include <chrono>
#include <optional>

#include "runtime/asio.hpp"
#include "runtime/io_pool.hpp"

namespace ftpsd::app {

void notify_ready();
void notify_reloading();
void notify_stopping();

// systemd's watchdog (WatchdogSec= in the unit): the interval systemd expects WATCHDOG=1 within, or
// nullopt when it is off (or ftpsd was not started by systemd).
std::optional<std::chrono::microseconds> watchdog_interval();
void notify_watchdog();

// WATCHDOG=1 every half `interval` while every event loop of `pool` has run a handler within it.
Task<void> feed_watchdog(runtime::IoPool& pool, std::chrono::microseconds interval);

}  // namespace ftpsd::app
