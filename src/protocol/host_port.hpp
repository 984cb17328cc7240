#pragma once
// PORT/EPRT parsing and PASV/EPSV formatting (RFC 959 §4.1.2, RFC 2428). Pure.
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ftpsd::protocol {

enum class AddressFamily : std::uint8_t { kIpv4 = 1, kIpv6 = 2 };  // RFC 2428 network protocol numbers

struct HostPort {
  AddressFamily family;
  std::string address;  // canonical text form (inet_ntop), so equal addresses compare equal as strings
  std::uint16_t port;
};

enum class HostPortError : std::uint8_t {
  kSyntax,               // 501
  kUnsupportedProtocol,  // 522: EPRT with a protocol other than 1 or 2
};

[[nodiscard]] Result<HostPort, HostPortError> parse_port(std::string_view argument);
[[nodiscard]] Result<HostPort, HostPortError> parse_eprt(std::string_view argument);

// The text of a 227 reply for an IPv4 address in dotted form.
[[nodiscard]] std::string format_pasv(std::string_view ipv4, std::uint16_t port);
// The text of a 229 reply.
[[nodiscard]] std::string format_epsv(std::uint16_t port);

// EPSV's optional argument: none, a protocol number, or ALL.
struct EpsvArgument {
  enum class Kind : std::uint8_t { kAny, kProtocol, kAll } kind = Kind::kAny;
  int protocol = 0;
};
[[nodiscard]] Result<EpsvArgument, HostPortError> parse_epsv(std::string_view argument);

// Canonical text of an IPv4 or IPv6 address, or empty if it is not one. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) become their IPv4 form.
[[nodiscard]] std::string canonical_address(std::string_view text);

}  // namespace ftpsd::protocol
