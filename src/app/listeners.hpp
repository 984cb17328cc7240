#pragma once
// The way in: the listening sockets and their accept loops. Each accepted connection is counted against
// server.max_sessions, its real client address found (a PROXY header on a proxied listener), checked
// against bans and server.max_sessions_per_ip, and then handed to a session; a refused one gets a single
// 421 line in clear text before any TLS handshake.
#include <optional>

#include "config/config.hpp"
#include "runtime/asio.hpp"
#include "runtime/io_pool.hpp"
#include "session/services.hpp"

namespace ftpsd::app {

// Binds and listens on `listener` (IPv6 only on an IPv6 address). Port 0 takes a free port: `listener`'s
// port and address are updated to the bound one. nullopt: logged (critical) why not.
std::optional<asio::ip::tcp::acceptor> bind_listener(asio::io_context& ctx, config::ListenerConfig& listener);

// Accepts until the acceptor is closed (a graceful stop); each session runs on the next event loop of
// `pool` with the configuration current when it was accepted.
Task<void> accept_loop(asio::ip::tcp::acceptor& acceptor, runtime::IoPool& pool, session::Services& services,
                       config::ListenerConfig listener);

}  // namespace ftpsd::app
