#pragma once
// sd_notify(3) for Type=notify units: READY=1 once listening, RELOADING=1 (with MONOTONIC_USEC, as
// systemd 253+ wants) and READY=1 around a reload, STOPPING=1 at a stop. Without NOTIFY_SOCKET (not
// started by systemd) every call does nothing.
#include <string_view>

namespace ftpsd::app {

void notify_ready();
void notify_reloading();
void notify_stopping();
// STATUS=...: one line that `systemctl status` shows.
void notify_status(std::string_view status);

}  // namespace ftpsd::app
