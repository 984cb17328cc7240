#include "inet/ip_network.hpp"

#include <gtest/gtest.h>

#include "test_ip.hpp"

using namespace ftpsd::inet;
using ftpsd::test::ip;

TEST(IpNetwork, ParseAndContains) {
  auto n = IpNetwork::parse("10.0.0.0/8");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->contains(ip("10.200.1.1")));
  EXPECT_TRUE(n->contains(ip("::ffff:10.1.2.3")));
  EXPECT_FALSE(n->contains(ip("11.0.0.1")));
  EXPECT_FALSE(n->contains(ip("2001:db8::1")));
  auto one = IpNetwork::parse("198.51.100.7");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains(ip("198.51.100.7")));
  EXPECT_FALSE(one->contains(ip("198.51.100.8")));
  auto v6 = IpNetwork::parse("2001:db8::/32");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(ip("2001:db9::1")));
  auto all = IpNetwork::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(ip("203.0.113.1")));
  auto odd = IpNetwork::parse("172.16.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(ip("172.31.255.255")));
  EXPECT_FALSE(odd->contains(ip("172.32.0.0")));
  EXPECT_EQ(odd->to_string(), "172.16.0.0/12");
}

TEST(IpNetwork, RefusesMalformed) {
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "10.0.0.1/8", "host.example", "10.0.0.0/8x",
                          "2001:db8::1/32", "::/129"})
    EXPECT_FALSE(IpNetwork::parse(bad)) << bad;
}

TEST(AddressClass, Classify) {
  EXPECT_EQ(classify(ip("10.1.2.3")), AddressClass::kPrivate);
  EXPECT_EQ(classify(ip("172.20.0.1")), AddressClass::kPrivate);
  EXPECT_EQ(classify(ip("192.168.1.1")), AddressClass::kPrivate);
  EXPECT_EQ(classify(ip("100.64.0.1")), AddressClass::kPrivate);  // carrier-grade NAT
  EXPECT_EQ(classify(ip("::ffff:192.168.1.1")), AddressClass::kPrivate);
  EXPECT_EQ(classify(ip("fd00::1")), AddressClass::kPrivate);
  EXPECT_EQ(classify(ip("127.0.0.1")), AddressClass::kLoopback);
  EXPECT_EQ(classify(ip("::1")), AddressClass::kLoopback);
  EXPECT_EQ(classify(ip("169.254.1.1")), AddressClass::kLinkLocal);
  EXPECT_EQ(classify(ip("fe80::1")), AddressClass::kLinkLocal);
  EXPECT_EQ(classify(ip("0.0.0.0")), AddressClass::kUnspecified);
  EXPECT_EQ(classify(ip("198.51.100.7")), AddressClass::kPublic);  // TEST-NET-2 stands for the internet
  EXPECT_EQ(classify(ip("8.8.8.8")), AddressClass::kPublic);
  EXPECT_EQ(classify(ip("172.32.0.1")), AddressClass::kPublic);
  EXPECT_EQ(classify(ip("2001:db8::1")), AddressClass::kPublic);
}
