#pragma once
// The privilege step of start-up (README "Security"): after the listeners are bound and every
// privileged file (TLS keys and certificates, the users file) was read, before the first thread
// starts and before any client is served.
#include <optional>
#include <string>

#include "config/config.hpp"
#include "sys/privileges.hpp"
#include "util/result.hpp"

namespace ftpsd::app {

// Whether CAP_NET_BIND_SERVICE must survive the start: active-mode connections from a fixed port
// below 1024 (active.source_port) bind it for every PORT/EPRT transfer.
[[nodiscard]] bool needs_bind_service(const config::Config& config);

// Root with server.user: drops to it (groups, gid, uid; CAP_NET_BIND_SERVICE kept only when
// needs_bind_service). Not root: clears capabilities it does not need. Root without server.user:
// a loud warning. Always: PR_SET_NO_NEW_PRIVS. Must run while the process has one thread.
// Returns an error text when the server must not start.
[[nodiscard]] std::optional<std::string> drop_privileges(const config::Config& config);

}  // namespace ftpsd::app
