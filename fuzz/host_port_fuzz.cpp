// PORT, EPRT and EPSV arguments: anything accepted round-trips through the formatters.
#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "protocol/host_port.hpp"

using namespace ftpsd::protocol;

namespace {

bool same(const HostPort& a, const HostPort& b) {
  return a.family == b.family && a.address == b.address && a.port == b.port;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = ftpsd::fuzz::as_text(data, size);

  if (const auto p = parse_port(in)) {
    FUZZ_CHECK(p->family == AddressFamily::kIpv4);
    FUZZ_CHECK(canonical_address(p->address) == p->address);
    // The 227 text carries the same h1,h2,h3,h4,p1,p2 a PORT command does.
    const std::string pasv = format_pasv(p->address, p->port);
    const auto open = pasv.find('(');
    const auto close = pasv.find(')');
    FUZZ_CHECK(open != std::string::npos && close != std::string::npos && open < close);
    const auto back = parse_port(std::string_view(pasv).substr(open + 1, close - open - 1));
    FUZZ_CHECK(back && same(*back, *p));
  }

  if (const auto e = parse_eprt(in)) {
    // SECURITY: the address compared with the control peer is the canonical one.
    FUZZ_CHECK(!e->address.empty() && canonical_address(e->address) == e->address);
    const bool v6 = e->address.find(':') != std::string::npos;
    // An IPv4-mapped IPv6 address is announced as IPv6 but compared in its IPv4 form.
    if (e->family == AddressFamily::kIpv4) FUZZ_CHECK(!v6);
    const auto back = parse_eprt(fmt::format("|{}|{}|{}|", v6 ? 2 : 1, e->address, e->port));
    FUZZ_CHECK(back && back->address == e->address && back->port == e->port);
  } else {
    FUZZ_CHECK(e.error() == HostPortError::kSyntax || e.error() == HostPortError::kUnsupportedProtocol);
  }

  if (const auto a = parse_epsv(in)) {
    if (a->kind == EpsvArgument::Kind::kProtocol) FUZZ_CHECK(a->protocol == 1 || a->protocol == 2);
    if (a->kind == EpsvArgument::Kind::kAny) FUZZ_CHECK(in.empty());
  }

  const std::string c = canonical_address(in);
  if (!c.empty()) FUZZ_CHECK(canonical_address(c) == c);
  return 0;
}
