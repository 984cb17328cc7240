#include "app/systemd.hpp"

#include <fmt/format.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstdint>
#include <string>

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

}  // namespace ftpsd::app
