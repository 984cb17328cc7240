#include "inet/ip_network.hpp"

#include <algorithm>
#include <charconv>

namespace ftpsd::inet {
namespace {

template <std::size_t N>
bool prefix_equal(const std::array<unsigned char, N>& a, const std::array<unsigned char, N>& b,
                  unsigned bits) {
  for (std::size_t i = 0; i < N && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const auto mask = static_cast<unsigned char>(0xff << (8 - take));
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

bool v4_in(const asio::ip::address_v4& a, std::uint32_t net, unsigned bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a.to_uint() & mask) == net;
}

}  // namespace

asio::ip::address unmap(const asio::ip::address& a) noexcept {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  const auto slash = text.find('/');
  std::error_code ec;
  const auto base = unmap(asio::ip::make_address(std::string(text.substr(0, slash)), ec));
  if (ec) return std::nullopt;
  const unsigned max = base.is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    auto [end, pec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || pec != std::errc{} || end != p.data() + p.size() || prefix > max) return std::nullopt;
  }
  IpNetwork n;
  n.base_ = base;
  n.prefix_ = prefix;
  // Host bits set: refuse rather than guess.
  if (base.is_v4()) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    if ((base.to_v4().to_uint() & ~mask) != 0) return std::nullopt;
  } else {
    const auto bytes = base.to_v6().to_bytes();
    for (unsigned bit = prefix; bit < 128; ++bit)
      if (bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return n;
}

bool IpNetwork::contains(const asio::ip::address& address) const noexcept {
  const auto a = unmap(address);
  if (a.is_v4() != base_.is_v4()) return false;
  if (a.is_v4()) return prefix_equal(a.to_v4().to_bytes(), base_.to_v4().to_bytes(), prefix_);
  return prefix_equal(a.to_v6().to_bytes(), base_.to_v6().to_bytes(), prefix_);
}

std::string IpNetwork::to_string() const {
  return base_.to_string() + "/" + std::to_string(prefix_);
}

bool any_contains(const std::vector<IpNetwork>& networks, const asio::ip::address& a) noexcept {
  return std::ranges::any_of(networks, [&](const IpNetwork& n) { return n.contains(a); });
}

// Asio's to_v4() and to_v6() throw for the other family only, which is checked first.
// NOLINTNEXTLINE(bugprone-exception-escape)
AddressClass classify(const asio::ip::address& address) noexcept {
  const auto a = unmap(address);
  if (a.is_unspecified()) return AddressClass::kUnspecified;
  if (a.is_loopback()) return AddressClass::kLoopback;
  if (a.is_v4()) {
    const auto v4 = a.to_v4();
    if (v4_in(v4, 0x0A000000, 8) || v4_in(v4, 0xAC100000, 12) || v4_in(v4, 0xC0A80000, 16) ||
        v4_in(v4, 0x64400000, 10))
      return AddressClass::kPrivate;
    if (v4_in(v4, 0xA9FE0000, 16)) return AddressClass::kLinkLocal;
    return AddressClass::kPublic;
  }
  const auto b = a.to_v6().to_bytes();
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;
  return AddressClass::kPublic;
}

// NOLINTNEXTLINE(bugprone-exception-escape): see classify
bool is_public(const asio::ip::address& a) noexcept {
  return classify(a) == AddressClass::kPublic;
}

std::string_view describe(AddressClass c) noexcept {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kUnspecified:
      return "unspecified";
  }
  return "unknown";
}

}  // namespace ftpsd::inet
