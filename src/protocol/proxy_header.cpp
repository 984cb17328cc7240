#include "protocol/proxy_header.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "protocol/host_port.hpp"

namespace ftpsd::protocol {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t kV1Max = 107;        // the longest v1 line, CRLF included
constexpr std::size_t kV1Min = 15;         // "PROXY UNKNOWN\r\n"
constexpr std::size_t kV2Fixed = 16;       // signature, version/command, family, length
constexpr std::size_t kSniff = 6;          // enough to tell v1 from v2
constexpr std::uint8_t kV2CmdLocal = 0x0;  // a health check by the proxy itself
constexpr std::uint8_t kV2CmdProxy = 0x1;  // a relayed connection
constexpr std::uint8_t kV2Inet = 0x1;      // family nibble: AF_INET
constexpr std::uint8_t kV2Inet6 = 0x2;     // family nibble: AF_INET6
constexpr std::uint8_t kV2Stream = 0x1;    // transport nibble: TCP

bool parse_port_text(std::string_view s, std::uint16_t& out) {
  unsigned v = 0;
  if (s.empty() || s.size() > 5 || (s.size() > 1 && s.front() == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

// The v1 address must be of the announced family, in its plain text form.
std::string v1_address(std::string_view text, bool v6) {
  const std::string s(text);
  std::array<unsigned char, 16> raw{};
  if (inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), raw.data()) != 1) return {};
  return canonical_address(text);
}

std::string v2_address(const unsigned char* p, bool v6) {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, p, buf.data(), buf.size()) == nullptr) return {};
  return canonical_address(buf.data());
}

std::uint16_t be16(const unsigned char* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

void put_be16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

}  // namespace

std::size_t ProxyHeaderParser::wanted() const noexcept {
  if (state_ != State::kNeedMore) return 0;
  const std::size_t n = buffer_.size();
  if (n < kSniff) return kSniff - n;
  if (buffer_.starts_with(kV1Prefix)) {
    if (n < kV1Min) return kV1Min - n;
    return buffer_.back() == '\r' ? 1 : 2;  // the shortest possible rest: "\n" or "\r\n"
  }
  if (n < kV2Fixed) return kV2Fixed - n;
  const auto* u = reinterpret_cast<const unsigned char*>(buffer_.data());
  return kV2Fixed + be16(u + 14) - n;
}

ProxyHeaderParser::State ProxyHeaderParser::fail(ProxyHeaderError e) {
  error_ = e;
  state_ = State::kError;
  return state_;
}

ProxyHeaderParser::State ProxyHeaderParser::feed(std::string_view bytes) {
  if (state_ != State::kNeedMore) return state_;
  buffer_.append(bytes);
  const std::string_view b = buffer_;
  // Both signatures are checked as soon as their first bytes are there: a plain FTP client that
  // talks to a PROXY listener is told apart at once.
  const bool v1 = kV1Prefix.starts_with(b.substr(0, kV1Prefix.size())) &&
                  (b.size() < kV1Prefix.size() || b.starts_with(kV1Prefix));
  const bool v2 = kV2Signature.starts_with(b.substr(0, std::min(b.size(), kV2Signature.size()))) &&
                  (b.size() < kV2Signature.size() || b.starts_with(kV2Signature));
  if (!v1 && !v2) return fail(ProxyHeaderError::kNotProxy);
  if (b.size() < kSniff) return state_;
  if (v1) return parse_v1();
  return parse_v2();
}

ProxyHeaderParser::State ProxyHeaderParser::parse_v1() {
  const std::string_view b = buffer_;
  const auto cr = b.find('\r');
  if (cr == std::string_view::npos || cr + 1 == b.size()) {
    if (b.size() >= kV1Max) return fail(ProxyHeaderError::kTooLong);
    return state_;
  }
  if (b[cr + 1] != '\n' || cr + 2 != b.size()) return fail(ProxyHeaderError::kMalformed);
  std::string_view line = b.substr(kV1Prefix.size(), cr - kV1Prefix.size());
  header_.version = 1;
  if (line.starts_with("UNKNOWN")) {
    state_ = State::kDone;  // the rest of an UNKNOWN line is ignored, as the specification says
    return state_;
  }
  std::array<std::string_view, 5> f;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto sp = line.find(' ');
    if ((sp == std::string_view::npos) != (i + 1 == f.size())) return fail(ProxyHeaderError::kMalformed);
    f[i] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
  }
  if (f[0] != "TCP4" && f[0] != "TCP6") return fail(ProxyHeaderError::kMalformed);
  const bool v6 = f[0] == "TCP6";
  ProxyEndpoint src{v1_address(f[1], v6), 0};
  ProxyEndpoint dst{v1_address(f[2], v6), 0};
  if (src.address.empty() || dst.address.empty() || !parse_port_text(f[3], src.port) ||
      !parse_port_text(f[4], dst.port))
    return fail(ProxyHeaderError::kMalformed);
  header_.source = std::move(src);
  header_.destination = std::move(dst);
  state_ = State::kDone;
  return state_;
}

ProxyHeaderParser::State ProxyHeaderParser::parse_v2() {
  const std::size_t n = buffer_.size();
  if (n < kV2Fixed) return state_;
  const auto* u = reinterpret_cast<const unsigned char*>(buffer_.data());
  const std::size_t length = be16(u + 14);
  if ((u[12] >> 4) != 2) return fail(ProxyHeaderError::kMalformed);
  const std::uint8_t command = u[12] & 0x0f;
  if (command != kV2CmdLocal && command != kV2CmdProxy) return fail(ProxyHeaderError::kMalformed);
  if (kV2Fixed + length > kMaxProxyHeader) return fail(ProxyHeaderError::kTooLong);
  if (n < kV2Fixed + length) return state_;
  header_.version = 2;
  state_ = State::kDone;
  const std::uint8_t family = u[13] >> 4;
  const std::uint8_t transport = u[13] & 0x0f;
  // LOCAL, UNSPEC, UNIX sockets and datagrams carry no usable TCP client address: the receiver uses
  // the connection's own endpoints.
  if (command == kV2CmdLocal || transport != kV2Stream || (family != kV2Inet && family != kV2Inet6))
    return state_;
  const bool v6 = family == kV2Inet6;
  const std::size_t alen = v6 ? 16 : 4;
  if (length < 2 * alen + 4) return fail(ProxyHeaderError::kMalformed);
  const unsigned char* a = u + kV2Fixed;
  header_.source = ProxyEndpoint{v2_address(a, v6), be16(a + 2 * alen)};
  header_.destination = ProxyEndpoint{v2_address(a + alen, v6), be16(a + 2 * alen + 2)};
  return state_;
}

std::optional<ParsedProxyHeader> parse_proxy_header(std::string_view bytes, ProxyHeaderError* error) {
  ProxyHeaderParser p;
  std::size_t pos = 0;
  while (p.state() == ProxyHeaderParser::State::kNeedMore) {
    const std::size_t take = std::min(p.wanted(), bytes.size() - pos);
    if (take == 0) {  // truncated
      if (error) *error = ProxyHeaderError::kMalformed;
      return std::nullopt;
    }
    p.feed(bytes.substr(pos, take));
    pos += take;
  }
  if (p.state() == ProxyHeaderParser::State::kError) {
    if (error) *error = p.error();
    return std::nullopt;
  }
  return ParsedProxyHeader{p.header(), p.consumed()};
}

std::string format_proxy_v1(const ProxyEndpoint& source, const ProxyEndpoint& destination) {
  const bool v6 = source.address.find(':') != std::string::npos;
  return fmt::format("PROXY {} {} {} {} {}\r\n", v6 ? "TCP6" : "TCP4", source.address, destination.address,
                     source.port, destination.port);
}

std::string format_proxy_v2(const ProxyEndpoint& source, const ProxyEndpoint& destination) {
  const bool v6 = source.address.find(':') != std::string::npos;
  std::array<unsigned char, 16> s{};
  std::array<unsigned char, 16> d{};
  inet_pton(v6 ? AF_INET6 : AF_INET, source.address.c_str(), s.data());
  inet_pton(v6 ? AF_INET6 : AF_INET, destination.address.c_str(), d.data());
  const std::size_t alen = v6 ? 16 : 4;
  std::string out(kV2Signature);
  out.push_back(static_cast<char>(0x20 | kV2CmdProxy));
  out.push_back(static_cast<char>(((v6 ? kV2Inet6 : kV2Inet) << 4) | kV2Stream));
  put_be16(out, static_cast<std::uint16_t>(2 * alen + 4));
  out.append(reinterpret_cast<const char*>(s.data()), alen);
  out.append(reinterpret_cast<const char*>(d.data()), alen);
  put_be16(out, source.port);
  put_be16(out, destination.port);
  return out;
}

std::string_view describe(ProxyHeaderError e) {
  switch (e) {
    case ProxyHeaderError::kNotProxy:
      return "no PROXY protocol header (is the load balancer set to send one, e.g. HAProxy send-proxy?)";
    case ProxyHeaderError::kMalformed:
      return "malformed PROXY protocol header";
    case ProxyHeaderError::kTooLong:
      return "PROXY protocol header too long";
  }
  return "bad PROXY protocol header";
}

}  // namespace ftpsd::protocol
