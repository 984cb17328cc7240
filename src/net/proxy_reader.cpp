#include "net/proxy_reader.hpp"

#include <array>

#include "runtime/timeout.hpp"

namespace ftpsd::net {

Task<Result<protocol::ProxyHeader, std::string>> read_proxy_header(asio::ip::tcp::socket& socket,
                                                                   Duration timeout) {
  using State = protocol::ProxyHeaderParser::State;
  protocol::ProxyHeaderParser parser;
  std::array<char, 256> buf{};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (parser.state() == State::kNeedMore) {
    const std::size_t want = std::min(parser.wanted(), buf.size());
    const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    std::optional<std::tuple<std::error_code, std::size_t>> r;
    if (left.count() > 0)
      r = co_await runtime::with_timeout(asio::async_read(socket, asio::buffer(buf.data(), want), kTuple),
                                         left);
    if (!r) co_return Unexpected{std::string("no PROXY protocol header within the timeout")};
    if (auto [ec, n] = *r; ec)
      co_return Unexpected{"connection closed before the PROXY header: " + ec.message()};
    parser.feed(std::string_view(buf.data(), want));
  }
  if (parser.state() == State::kError) co_return Unexpected{std::string(protocol::describe(parser.error()))};
  co_return parser.header();
}

Task<Result<asio::ip::address, std::string>> proxied_client(asio::ip::tcp::socket& socket,
                                                            const std::vector<inet::IpNetwork>& trusted) {
  std::error_code ec;
  const auto peer = inet::unmap(socket.remote_endpoint(ec).address());
  if (ec) co_return Unexpected{"no peer address: " + ec.message()};
  if (!inet::any_contains(trusted, peer))
    co_return Unexpected{peer.to_string() +
                         " is not in proxy_protocol.trusted (only the load balancers may "
                         "connect to a proxy_protocol listener)"};
  auto header = co_await read_proxy_header(socket, kProxyHeaderTimeout);
  if (!header) co_return Unexpected{"from proxy " + peer.to_string() + ": " + header.error()};
  if (!header->source) co_return peer;
  const auto client = asio::ip::make_address(header->source->address, ec);
  if (ec) co_return Unexpected{"bad client address in the PROXY header from " + peer.to_string()};
  co_return inet::unmap(client);
}

}  // namespace ftpsd::net
