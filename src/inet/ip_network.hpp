#pragma once
// IP networks ("10.0.0.0/8", "2001:db8::/32", or one address) and the address classes that NAT
// advice depends on. Pure values: no I/O. Below config (which parses networks from the file) and
// every layer that matches addresses; it uses only Asio's address value types.
#include <asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ftpsd::inet {

class IpNetwork {
 public:
  // "a.b.c.d/n", "v6/n" or a bare address (a /32 or /128). nullopt when malformed, or when host bits
  // are set ("10.0.0.1/8" is refused: it is almost always a typo for an address or a network).
  [[nodiscard]] static std::optional<IpNetwork> parse(std::string_view text);

  // IPv4-mapped IPv6 addresses match IPv4 networks.
  [[nodiscard]] bool contains(const asio::ip::address& a) const noexcept;
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] unsigned prefix() const noexcept { return prefix_; }
  [[nodiscard]] bool is_v4() const noexcept { return base_.is_v4(); }
  // One address: a /32 (IPv4) or a /128 (IPv6).
  [[nodiscard]] bool is_single_address() const noexcept { return prefix_ == (is_v4() ? 32U : 128U); }

 private:
  asio::ip::address base_;
  unsigned prefix_ = 0;
};

[[nodiscard]] bool any_contains(const std::vector<IpNetwork>& networks, const asio::ip::address& a) noexcept;

enum class AddressClass : std::uint8_t {
  kPublic,
  kPrivate,    // RFC 1918, RFC 6598 carrier-grade NAT (100.64/10), IPv6 unique local (fc00::/7)
  kLoopback,   // 127/8, ::1
  kLinkLocal,  // 169.254/16, fe80::/10
  kUnspecified,
};

// IPv4-mapped addresses are classified as IPv4. Documentation ranges (TEST-NET) count as public:
// they stand for internet addresses in examples and tests.
// Asio's to_v4() and to_v6() throw for the other family only, which classify checks first:
// NOLINTBEGIN(bugprone-exception-escape)
[[nodiscard]] AddressClass classify(const asio::ip::address& a) noexcept;
[[nodiscard]] bool is_public(const asio::ip::address& a) noexcept;
// NOLINTEND(bugprone-exception-escape)
[[nodiscard]] std::string_view describe(AddressClass c) noexcept;

// Canonical form for comparing peers: IPv4-mapped IPv6 addresses become IPv4.
[[nodiscard]] asio::ip::address unmap(const asio::ip::address& a) noexcept;

}  // namespace ftpsd::inet
