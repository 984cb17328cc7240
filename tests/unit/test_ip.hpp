#pragma once
// ip("10.0.0.1"): an address written as text in a test (a malformed one throws, which fails the test).
#include <asio/ip/address.hpp>

namespace ftpsd::test {

inline asio::ip::address ip(const char* text) {
  return asio::ip::make_address(text);
}

}  // namespace ftpsd::test
