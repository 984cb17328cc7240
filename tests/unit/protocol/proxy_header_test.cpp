#include "protocol/proxy_header.hpp"

#include <gtest/gtest.h>

using namespace ftpsd::protocol;

namespace {

ProxyEndpoint ep(std::string a, std::uint16_t p) {
  return ProxyEndpoint{std::move(a), p};
}

}  // namespace

TEST(ProxyHeader, V1Tcp4) {
  ProxyHeaderError err{};
  auto h = parse_proxy_header("PROXY TCP4 198.51.100.7 10.0.0.2 40001 21\r\nUSER x\r\n", &err);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->length, 43u);
  EXPECT_EQ(h->header.version, 1);
  ASSERT_TRUE(h->header.source);
  EXPECT_EQ(h->header.source->address, "198.51.100.7");
  EXPECT_EQ(h->header.source->port, 40001);
  EXPECT_EQ(h->header.destination->address, "10.0.0.2");
  EXPECT_EQ(h->header.destination->port, 21);
}

TEST(ProxyHeader, V1Tcp6AndUnknown) {
  auto h = parse_proxy_header("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->header.source->address, "2001:db8::1");
  EXPECT_EQ(h->header.destination->port, 65535);
  auto u = parse_proxy_header("PROXY UNKNOWN ffff::1 whatever\r\n");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->header.source);
  auto shortest = parse_proxy_header("PROXY UNKNOWN\r\n");
  ASSERT_TRUE(shortest);
  EXPECT_EQ(shortest->length, 15u);
}

TEST(ProxyHeader, V1Malformed) {
  for (const char* bad :
       {"PROXY TCP4 198.51.100.7 10.0.0.2 40001\r\n", "PROXY TCP4 2001:db8::1 10.0.0.2 1 2\r\n",
        "PROXY TCP4 198.51.100.7 10.0.0.2 70000 21\r\n", "PROXY TCP4 198.51.100.7 10.0.0.2 040 21\r\n",
        "PROXY TCP4 a b 1 2\r\n", "PROXY TCP4 198.51.100.7  10.0.0.2 1 2\r\n",
        "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX\n"}) {
    ProxyHeaderError err{};
    EXPECT_FALSE(parse_proxy_header(bad, &err)) << bad;
    EXPECT_EQ(err, ProxyHeaderError::kMalformed) << bad;
  }
}

TEST(ProxyHeader, V1TooLong) {
  ProxyHeaderError err{};
  EXPECT_FALSE(parse_proxy_header("PROXY UNKNOWN " + std::string(200, 'x') + "\r\n", &err));
  EXPECT_EQ(err, ProxyHeaderError::kTooLong);
}

TEST(ProxyHeader, PlainFtpClientIsNotProxy) {
  for (const char* bad : {"USER alice\r\n", "AUTH TLS\r\n", "\x16\x03\x01\x02\x00\x01", "PROXZ"}) {
    ProxyHeaderError err{};
    EXPECT_FALSE(parse_proxy_header(bad, &err)) << bad;
    EXPECT_EQ(err, ProxyHeaderError::kNotProxy) << bad;
  }
}

TEST(ProxyHeader, V2RoundTripIpv4AndIpv6) {
  const auto v4 = format_proxy_v2(ep("198.51.100.9", 51234), ep("10.1.0.2", 2121));
  EXPECT_EQ(v4.size(), 28u);
  auto h = parse_proxy_header(v4 + "after");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->length, 28u);
  EXPECT_EQ(h->header.version, 2);
  EXPECT_EQ(h->header.source->address, "198.51.100.9");
  EXPECT_EQ(h->header.source->port, 51234);
  EXPECT_EQ(h->header.destination->address, "10.1.0.2");
  const auto v6 = format_proxy_v2(ep("2001:db8::7", 1), ep("2001:db8::8", 2));
  auto h6 = parse_proxy_header(v6);
  ASSERT_TRUE(h6);
  EXPECT_EQ(h6->length, 52u);
  EXPECT_EQ(h6->header.source->address, "2001:db8::7");
}

TEST(ProxyHeader, V2LocalAndTlvsAndUnix) {
  std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
  auto h = parse_proxy_header(local);
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->header.source);
  // PROXY over TCP4 with a 3-byte TLV after the addresses: skipped, consumed.
  std::string tlv = format_proxy_v2(ep("198.51.100.1", 1), ep("10.0.0.1", 2));
  tlv[15] = static_cast<char>(12 + 3);
  tlv += std::string("\x04\x00\x00", 3);
  auto t = parse_proxy_header(tlv + "X");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->length, 31u);
  EXPECT_EQ(t->header.source->address, "198.51.100.1");
  // AF_UNIX: no client address, use the connection's.
  std::string unix_hdr("\r\n\r\n\0\r\nQUIT\n\x21\x31\x00\xd8", 16);
  unix_hdr += std::string(216, '\0');
  auto u = parse_proxy_header(unix_hdr);
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->header.source);
}

TEST(ProxyHeader, V2Malformed) {
  ProxyHeaderError err{};
  std::string bad_version("\r\n\r\n\0\r\nQUIT\n\x11\x11\x00\x0c", 16);
  EXPECT_FALSE(parse_proxy_header(bad_version + std::string(12, '\0'), &err));
  EXPECT_EQ(err, ProxyHeaderError::kMalformed);
  std::string bad_cmd("\r\n\r\n\0\r\nQUIT\n\x2f\x11\x00\x0c", 16);
  EXPECT_FALSE(parse_proxy_header(bad_cmd + std::string(12, '\0'), &err));
  std::string short_addr("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x04", 16);
  EXPECT_FALSE(parse_proxy_header(short_addr + std::string(4, '\0'), &err));
  EXPECT_EQ(err, ProxyHeaderError::kMalformed);
  std::string huge("\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff", 16);
  EXPECT_FALSE(parse_proxy_header(huge, &err));
  EXPECT_EQ(err, ProxyHeaderError::kTooLong);
}

// The reader is told how much to read and never passes the end of the header, even when the bytes
// after it (an upload on a data connection) are already there.
TEST(ProxyHeader, IncrementalNeverOverreads) {
  for (const std::string& hdr :
       {std::string("PROXY TCP4 198.51.100.7 10.0.0.2 40001 21\r\n"), std::string("PROXY UNKNOWN\r\n"),
        format_proxy_v2(ep("198.51.100.9", 5), ep("10.1.0.2", 6))}) {
    const std::string stream = hdr + "DATA";
    ProxyHeaderParser p;
    std::size_t pos = 0;
    while (p.state() == ProxyHeaderParser::State::kNeedMore) {
      const auto n = p.wanted();
      ASSERT_GE(n, 1u);
      ASSERT_LE(pos + n, hdr.size()) << "would read past the header";
      p.feed(std::string_view(stream).substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(p.state(), ProxyHeaderParser::State::kDone);
    EXPECT_EQ(p.consumed(), hdr.size());
  }
}

TEST(ProxyHeader, V1FormatRoundTrip) {
  const auto line = format_proxy_v1(ep("198.51.100.7", 1000), ep("10.0.0.2", 21));
  EXPECT_EQ(line, "PROXY TCP4 198.51.100.7 10.0.0.2 1000 21\r\n");
  EXPECT_TRUE(parse_proxy_header(line));
}
