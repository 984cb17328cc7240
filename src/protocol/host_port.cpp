#include "protocol/host_port.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstring>

namespace ftpsd::protocol {
namespace {

bool parse_uint(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 5) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && out <= max;
}

}  // namespace

std::string canonical_address(std::string_view text) {
  // A NUL would end the text early for inet_pton: "1.2.3.4\0junk" must not read as 1.2.3.4.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN || text.find('\0') != std::string_view::npos) return {};
  const std::string s(text);
  std::array<char, INET6_ADDRSTRLEN> buf{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) return inet_ntop(AF_INET, &v4, buf.data(), buf.size());
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return {};
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], 4);
    return inet_ntop(AF_INET, &v4, buf.data(), buf.size());
  }
  return inet_ntop(AF_INET6, &v6, buf.data(), buf.size());
}

Result<HostPort, HostPortError> parse_port(std::string_view argument) {
  std::array<unsigned, 6> n{};
  std::size_t i = 0;
  for (;;) {
    const auto comma = argument.find(',');
    if (i == n.size() || !parse_uint(argument.substr(0, comma), 255, n[i]))
      return Unexpected{HostPortError::kSyntax};
    ++i;
    if (comma == std::string_view::npos) break;
    argument.remove_prefix(comma + 1);
  }
  if (i != n.size()) return Unexpected{HostPortError::kSyntax};
  return HostPort{AddressFamily::kIpv4, fmt::format("{}.{}.{}.{}", n[0], n[1], n[2], n[3]),
                  static_cast<std::uint16_t>(n[4] * 256 + n[5])};
}

Result<HostPort, HostPortError> parse_eprt(std::string_view argument) {
  // |proto|address|port| where '|' may be any printable ASCII delimiter (RFC 2428 §2).
  if (argument.size() < 7) return Unexpected{HostPortError::kSyntax};
  const char d = argument.front();
  if (d < 33 || d > 126 || argument.back() != d) return Unexpected{HostPortError::kSyntax};
  const auto body = argument.substr(1, argument.size() - 2);
  const auto a = body.find(d);
  const auto b = a == std::string_view::npos ? a : body.find(d, a + 1);
  if (b == std::string_view::npos || body.find(d, b + 1) != std::string_view::npos)
    return Unexpected{HostPortError::kSyntax};
  unsigned proto = 0;
  unsigned port = 0;
  if (!parse_uint(body.substr(0, a), 255, proto) || !parse_uint(body.substr(b + 1), 65535, port))
    return Unexpected{HostPortError::kSyntax};
  if (proto != 1 && proto != 2) return Unexpected{HostPortError::kUnsupportedProtocol};
  const std::string addr(body.substr(a + 1, b - a - 1));
  std::array<unsigned char, sizeof(in6_addr)> raw{};
  const int af = proto == 1 ? AF_INET : AF_INET6;
  if (inet_pton(af, addr.c_str(), raw.data()) != 1) return Unexpected{HostPortError::kSyntax};
  std::string canonical = canonical_address(addr);
  // Found by fuzz/host_port_fuzz.cpp: "::" followed by NULs passed inet_pton and gave an empty address.
  if (canonical.empty()) return Unexpected{HostPortError::kSyntax};
  return HostPort{proto == 1 ? AddressFamily::kIpv4 : AddressFamily::kIpv6, std::move(canonical),
                  static_cast<std::uint16_t>(port)};
}

std::string format_pasv(std::string_view ipv4, std::uint16_t port) {
  std::string h(ipv4);
  for (char& c : h)
    if (c == '.') c = ',';
  return fmt::format("Entering Passive Mode ({},{},{}).", h, port >> 8, port & 0xff);
}

std::string format_epsv(std::uint16_t port) {
  return fmt::format("Entering Extended Passive Mode (|||{}|).", port);
}

Result<EpsvArgument, HostPortError> parse_epsv(std::string_view argument) {
  if (argument.empty()) return EpsvArgument{};
  if (argument.size() == 3 && (argument[0] | 0x20) == 'a' && (argument[1] | 0x20) == 'l' &&
      (argument[2] | 0x20) == 'l')
    return EpsvArgument{EpsvArgument::Kind::kAll, 0};
  unsigned proto = 0;
  if (!parse_uint(argument, 255, proto)) return Unexpected{HostPortError::kSyntax};
  if (proto != 1 && proto != 2) return Unexpected{HostPortError::kUnsupportedProtocol};
  return EpsvArgument{EpsvArgument::Kind::kProtocol, static_cast<int>(proto)};
}

}  // namespace ftpsd::protocol
