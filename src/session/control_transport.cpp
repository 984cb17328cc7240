#include "session/control_transport.hpp"

namespace ftpsd::session {

asio::ip::address SocketTransport::remote_address() {
  std::error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  return ec ? asio::ip::address() : ep.address();
}

asio::ip::address SocketTransport::local_address() {
  std::error_code ec;
  const auto ep = stream_.socket().local_endpoint(ec);
  return ec ? asio::ip::address() : ep.address();
}

Task<std::error_code> SocketTransport::wait_readable() {
  auto [ec] = co_await stream_.socket().async_wait(asio::ip::tcp::socket::wait_read, kTuple);
  co_return ec;
}

void SocketTransport::park(std::unique_ptr<Parked> parked) {
  // The pending wait owns the session: a loop destroyed with it pending frees the session too.
  stream_.socket().async_wait(asio::ip::tcp::socket::wait_read,
                              [p = std::move(parked)](std::error_code ec) mutable {
                                Parked* raw = p.get();
                                raw->resumed(std::move(p), ec);
                              });
}

}  // namespace ftpsd::session
