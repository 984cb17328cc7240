#pragma once
// Reads a PROXY protocol header (protocol/proxy_header.hpp) from a freshly accepted socket, never a
// byte past its end, within a deadline.
#include <string>
#include <vector>

#include "inet/ip_network.hpp"
#include "protocol/proxy_header.hpp"
#include "runtime/asio.hpp"
#include "util/duration.hpp"
#include "util/result.hpp"

namespace ftpsd::net {

// Bound for the header to arrive: a proxy sends it at once on connect.
inline constexpr Duration kProxyHeaderTimeout = std::chrono::seconds(10);

// The header, or why not (timeout, closed, malformed: a text for the log).
Task<Result<protocol::ProxyHeader, std::string>> read_proxy_header(asio::ip::tcp::socket& socket,
                                                                   Duration timeout);

// SECURITY: the accept side of a proxy_protocol listener. Only a peer in `trusted` may speak for a
// client; anything else is refused. Returns the client's address (the peer's own for a LOCAL header,
// e.g. a health check), or why the connection must be closed.
Task<Result<asio::ip::address, std::string>> proxied_client(asio::ip::tcp::socket& socket,
                                                            const std::vector<inet::IpNetwork>& trusted);

}  // namespace ftpsd::net
