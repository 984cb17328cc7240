#pragma once
// One client, from accept to close: greeting, the control loop (read -> parse -> dispatch -> reply),
// the transfer task, and the idle/login watchdog. A coroutine on one event loop; no thread of its own.
#include "config/config.hpp"
#include "runtime/asio.hpp"
#include "session/services.hpp"

namespace ftpsd::session {

// Runs a session to its end. Never throws: a bug is logged and closes only this session.
// `client`: the client's address from a PROXY protocol header (the socket's peer is the proxy then).
// `snapshot`: the configuration the session runs with (taken by the caller when it accepted).
Task<void> run_session(asio::ip::tcp::socket socket, Services& services, Snapshot snapshot,
                       config::ListenerConfig listener,
                       std::optional<asio::ip::address> client = std::nullopt);

}  // namespace ftpsd::session
