#include "net/passive_address_policy.hpp"

#include <gtest/gtest.h>

#include "net/passive_host_resolver.hpp"
#include "test_ip.hpp"

using namespace ftpsd;
using net::PassiveSource;
using test::ip;

namespace {

config::AddressOverride over(std::vector<const char*> nets, std::string address) {
  config::AddressOverride o;
  for (const char* n : nets) o.networks.push_back(*inet::IpNetwork::parse(n));
  o.address = std::move(address);
  return o;
}

const auto kLocal = ip("10.0.0.2");
const auto kInternet = ip("198.51.100.7");
const auto kLan = ip("10.9.0.5");

}  // namespace

TEST(PassiveAddressPolicy, EmptyUsesTheLocalAddress) {
  net::PassiveAddressPolicy p(config::PassiveConfig{});
  const auto c = p.choose(kInternet, kLocal);
  EXPECT_EQ(c.address, kLocal);
  EXPECT_EQ(c.source, PassiveSource::kLocal);
  EXPECT_TRUE(p.host_name().empty());
}

TEST(PassiveAddressPolicy, FixedAddressForEveryClient) {
  config::PassiveConfig cfg;
  cfg.address = "203.0.113.10";
  net::PassiveAddressPolicy p(cfg);
  EXPECT_EQ(p.advertised(kInternet, kLocal), ip("203.0.113.10"));
  EXPECT_EQ(p.advertised(kLan, kLocal), ip("203.0.113.10"));
  EXPECT_EQ(p.choose(kLan, kLocal).source, PassiveSource::kConfigured);
}

TEST(PassiveAddressPolicy, FirstMatchingOverrideWins) {
  config::PassiveConfig cfg;
  cfg.address = "203.0.113.10";
  cfg.address_overrides = {over({"10.9.0.0/16", "192.168.0.0/16"}, "local"),
                           over({"10.0.0.0/8"}, "10.0.0.99"), over({"10.9.0.0/16"}, "10.0.0.55")};
  net::PassiveAddressPolicy p(cfg);
  EXPECT_EQ(p.choose(kLan, kLocal).address, kLocal);
  EXPECT_EQ(p.choose(kLan, kLocal).source, PassiveSource::kOverrideLocal);
  EXPECT_EQ(p.choose(ip("192.168.4.4"), kLocal).address, kLocal);
  EXPECT_EQ(p.choose(ip("10.200.0.1"), kLocal).address, ip("10.0.0.99"));
  EXPECT_EQ(p.choose(ip("10.200.0.1"), kLocal).source, PassiveSource::kOverride);
  EXPECT_EQ(p.choose(kInternet, kLocal).address, ip("203.0.113.10"));
  EXPECT_EQ(p.choose(ip("::ffff:10.9.1.1"), kLocal).source, PassiveSource::kOverrideLocal);
}

TEST(PassiveAddressPolicy, HostNameFallsBackToLocalUntilResolvedThenKeepsLastGood) {
  config::PassiveConfig cfg;
  cfg.address = "ftp.example.test";
  net::PassiveAddressPolicy p(cfg);
  EXPECT_EQ(p.host_name(), "ftp.example.test");
  EXPECT_EQ(p.choose(kInternet, kLocal).source, PassiveSource::kUnresolved);
  EXPECT_EQ(p.choose(kInternet, kLocal).address, kLocal);
  EXPECT_TRUE(p.update_resolved(asio::ip::make_address_v4("203.0.113.20")));
  EXPECT_FALSE(p.update_resolved(asio::ip::make_address_v4("203.0.113.20")));
  EXPECT_EQ(p.choose(kInternet, kLocal).address, ip("203.0.113.20"));
  EXPECT_EQ(p.choose(kInternet, kLocal).source, PassiveSource::kResolved);
  EXPECT_TRUE(p.update_resolved(asio::ip::make_address_v4("203.0.113.21")));
  EXPECT_EQ(p.advertised(kInternet, kLocal), ip("203.0.113.21"));
}

TEST(PassiveAddressPolicy, PortTranslation) {
  config::PassiveConfig cfg;
  cfg.ports = config::PortRange{50000, 50099};
  cfg.advertised_ports = config::PortRange{30000, 30099};
  net::PassiveAddressPolicy p(cfg);
  EXPECT_EQ(p.advertised_port(50000), 30000);
  EXPECT_EQ(p.advertised_port(50042), 30042);
  EXPECT_EQ(p.advertised_port(50099), 30099);
  EXPECT_EQ(p.advertised_port(40000), 40000);  // not from the range (cannot happen): unchanged
  net::PassiveAddressPolicy plain(config::PassiveConfig{.ports = cfg.ports});
  EXPECT_EQ(plain.advertised_port(50042), 50042);
}

// RFC 6761: names under .invalid fail at once; no DNS server is asked (tests use them for that).
TEST(PassiveHostResolver, NamesUnderInvalidFailWithoutALookup) {
  for (const char* name : {"ftp.invalid", "FTP.Invalid.", "invalid"}) {
    const auto r = net::resolve_ipv4(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error(), "the reserved domain .invalid never resolves") << name;
  }
}
