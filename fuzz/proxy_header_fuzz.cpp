// The PROXY protocol v1/v2 header in front of a connection: the parser never reads past the header,
// gives the same answer however the bytes arrive, and what it accepts the formatters can rebuild.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_check.hpp"
#include "protocol/proxy_header.hpp"

using namespace ftpsd::protocol;

namespace {

bool same(const std::optional<ProxyEndpoint>& a, const std::optional<ProxyEndpoint>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->address == b->address && a->port == b->port);
}

bool same(const ProxyHeader& a, const ProxyHeader& b) {
  return a.version == b.version && same(a.source, b.source) && same(a.destination, b.destination);
}

// The reader's way: ask wanted(), read at most that many, in pieces of `step` bytes.
std::optional<ParsedProxyHeader> parse_in_steps(std::string_view bytes, std::size_t step) {
  ProxyHeaderParser p;
  std::size_t pos = 0;
  while (p.state() == ProxyHeaderParser::State::kNeedMore) {
    const std::size_t wanted = p.wanted();
    FUZZ_CHECK(wanted >= 1);
    FUZZ_CHECK(p.consumed() + wanted <= kMaxProxyHeader);
    const std::size_t take = std::min({wanted, step, bytes.size() - pos});
    if (take == 0) return std::nullopt;
    p.feed(bytes.substr(pos, take));
    pos += take;
    FUZZ_CHECK(p.consumed() == pos);
  }
  if (p.state() == ProxyHeaderParser::State::kError) return std::nullopt;
  return ParsedProxyHeader{p.header(), p.consumed()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = ftpsd::fuzz::as_text(data, size);
  const auto whole = parse_proxy_header(in);
  const auto bytewise = parse_in_steps(in, 1);
  const auto odd = parse_in_steps(in, 7);
  FUZZ_CHECK(whole.has_value() == bytewise.has_value() && whole.has_value() == odd.has_value());
  if (!whole) return 0;
  FUZZ_CHECK(same(whole->header, bytewise->header) && whole->length == bytewise->length);
  FUZZ_CHECK(same(whole->header, odd->header) && whole->length == odd->length);

  const ProxyHeader& h = whole->header;
  FUZZ_CHECK(h.version == 1 || h.version == 2);
  FUZZ_CHECK(whole->length <= in.size() && whole->length <= kMaxProxyHeader);
  if (h.version == 1) FUZZ_CHECK(whole->length <= 107);
  // Never past the header: the bytes after it (the client's own) do not change the answer.
  const auto alone = parse_proxy_header(in.substr(0, whole->length));
  FUZZ_CHECK(alone && same(alone->header, h) && alone->length == whole->length);
  FUZZ_CHECK(h.source.has_value() == h.destination.has_value());
  if (!h.source) return 0;
  FUZZ_CHECK(!h.source->address.empty() && !h.destination->address.empty());
  // The formatters take one family for both ends; IPv4-mapped IPv6 addresses parse to IPv4 text.
  const bool v6 = h.source->address.find(':') != std::string::npos;
  if (v6 != (h.destination->address.find(':') != std::string::npos)) return 0;
  for (const std::string& rebuilt :
       {format_proxy_v1(*h.source, *h.destination), format_proxy_v2(*h.source, *h.destination)}) {
    const auto back = parse_proxy_header(rebuilt);
    FUZZ_CHECK(back && back->length == rebuilt.size());
    FUZZ_CHECK(same(back->header.source, h.source) && same(back->header.destination, h.destination));
  }
  return 0;
}
