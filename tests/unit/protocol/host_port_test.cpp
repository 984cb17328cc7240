#include "protocol/host_port.hpp"

#include <gtest/gtest.h>

using namespace ftpsd::protocol;

TEST(ParsePort, Valid) {
  auto hp = parse_port("127,0,0,1,195,80");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->address, "127.0.0.1");
  EXPECT_EQ(hp->port, 195 * 256 + 80);
}

TEST(ParsePort, Invalid) {
  for (const char* bad : {"", "1,2,3,4,5", "1,2,3,4,5,6,7", "256,0,0,1,1,1", "a,b,c,d,e,f", "1,2,3,4,5,",
                          ",1,2,3,4,5", "1,2,3,4,5,-6", "1,2,3,4,5,1000"})
    EXPECT_FALSE(parse_port(bad)) << bad;
}

TEST(ParseEprt, AddressesAreCanonical) {
  auto a = parse_eprt("|2|0:0:0:0:0:0:0:1|5282|");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->address, "::1");
  EXPECT_EQ(a->family, AddressFamily::kIpv6);
  auto b = parse_eprt("!1!132.235.1.2!6275!");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->address, "132.235.1.2");
  EXPECT_EQ(b->port, 6275);
}

TEST(ParseEprt, Errors) {
  EXPECT_EQ(parse_eprt("|3|1.2.3.4|5|").error(), HostPortError::kUnsupportedProtocol);
  for (const char* bad : {"|1|::1|5|", "|2|1.2.3.4|5|", "|1|1.2.3.4|70000|", "|1|1.2.3.4|5", "1|1.2.3.4|5|",
                          "|1|1.2.3.4|5|6|", "|1||5|"})
    EXPECT_EQ(parse_eprt(bad).error(), HostPortError::kSyntax) << bad;
}

TEST(FormatPassive, Replies) {
  EXPECT_EQ(format_pasv("192.0.2.7", 50001), "Entering Passive Mode (192,0,2,7,195,81).");
  EXPECT_EQ(format_epsv(50001), "Entering Extended Passive Mode (|||50001|).");
}

TEST(ParseEpsv, Arguments) {
  EXPECT_EQ(parse_epsv("")->kind, EpsvArgument::Kind::kAny);
  EXPECT_EQ(parse_epsv("all")->kind, EpsvArgument::Kind::kAll);
  EXPECT_EQ(parse_epsv("2")->protocol, 2);
  EXPECT_EQ(parse_epsv("3").error(), HostPortError::kUnsupportedProtocol);
  EXPECT_EQ(parse_epsv("x").error(), HostPortError::kSyntax);
}

TEST(CanonicalAddress, MappedV4AndInvalid) {
  EXPECT_EQ(canonical_address("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(canonical_address("2001:DB8::0:1"), "2001:db8::1");
  EXPECT_EQ(canonical_address("example.com"), "");
}

// Found by fuzz/host_port_fuzz.cpp: inet_pton stops at a NUL, so the text after it was ignored
// (a short address) or the canonical form came out empty (a long one).
TEST(ParseEprt, NulInsideTheAddressIsRefused) {
  using namespace std::string_literals;
  EXPECT_EQ(parse_eprt("|1|1.2.3.4\0junk|21|"s).error(), HostPortError::kSyntax);
  EXPECT_EQ(parse_eprt("|2|::"s + std::string(60, '\0') + "1|2121|").error(), HostPortError::kSyntax);
  EXPECT_EQ(canonical_address("1.2.3.4\0x"s), "");
}
