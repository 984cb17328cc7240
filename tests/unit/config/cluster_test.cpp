// The [cluster] table: absent by default, its defaults, and errors that name the file, the line and the key.
#include <gtest/gtest.h>

#include "config/load_text.hpp"
#include "config/loader.hpp"
#include "sys/syscalls.hpp"

using namespace ftpsd::config;
using namespace ftpsd::config::test_support;

namespace {
// Lines 1-2: a listener; [cluster] on line 3.
constexpr std::string_view kBase = "[[listeners]]\naddress = \"127.0.0.1:2121\"\n";
}  // namespace

TEST(ClusterConfig, AbsentWithoutTheTable) {
  auto c = load(kBase);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->cluster.has_value());
}

TEST(ClusterConfig, Defaults) {
  auto c = load(std::string(kBase) + "[cluster]\ndatabase = \"postgresql://ftpsd@db.internal/ftpsd\"\n");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->cluster.has_value());
  EXPECT_EQ(c->cluster->database, "postgresql://ftpsd@db.internal/ftpsd");
  EXPECT_TRUE(c->cluster->password_file.empty());
  EXPECT_EQ(c->cluster->node, ftpsd::sys::host_name());
  EXPECT_FALSE(c->cluster->node.empty());
  EXPECT_EQ(c->cluster->cache_ttl, std::chrono::minutes(10));
}

TEST(ClusterConfig, Values) {
  auto c = load(std::string(kBase) +
                "[cluster]\ndatabase = \"host=db port=5433 dbname=ftpsd user=ftpsd\"\npassword_file = "
                "\"secret/db\"\nnode = \"node1\"\ncache_ttl = \"90s\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cluster->database, "host=db port=5433 dbname=ftpsd user=ftpsd");
  EXPECT_EQ(c->cluster->password_file, "/base/secret/db");
  EXPECT_EQ(c->cluster->node, "node1");
  EXPECT_EQ(c->cluster->cache_ttl, std::chrono::seconds(90));
}

TEST(ClusterConfig, AUriWithAPortButNoPasswordIsFine) {
  EXPECT_EQ(error_of(std::string(kBase) + "[cluster]\ndatabase = \"postgresql://ftpsd@[::1]:5433/ftpsd\"\n"),
            "loaded");
  EXPECT_EQ(error_of(std::string(kBase) + "[cluster]\ndatabase = \"postgresql://db:5433/ftpsd\"\n"),
            "loaded");
}

TEST(ClusterConfig, ErrorsNameFileLineAndKey) {
  const std::string b(kBase);
  EXPECT_EQ(error_of(b + "[cluster]\ndatabase = 5\n"),
            "test.toml:4: key 'cluster.database': expected a string");
  EXPECT_EQ(error_of(b + "[cluster]\nnode = \"n\"\n"),
            "test.toml:3: key 'cluster.database': the database's libpq connection string is needed, such as "
            "\"postgresql://ftpsd@db/ftpsd\"");
  const std::string no_password =
      "key 'cluster.database': no password in the connection string: put it in cluster.password_file (or "
      "PGPASSFILE)";
  EXPECT_EQ(error_of(b + "[cluster]\ndatabase = \"postgresql://ftpsd:pw@db/ftpsd\"\n"),
            "test.toml:4: " + no_password);
  EXPECT_EQ(error_of(b + "[cluster]\ndatabase = \"host=db password=pw\"\n"), "test.toml:4: " + no_password);
  EXPECT_EQ(error_of(b + "[cluster]\ndatabase = \"host=db\"\ncache_ttl = \"soon\"\n"),
            "test.toml:5: key 'cluster.cache_ttl': expected a duration such as \"30s\", \"5m\" or \"1h\"");
  EXPECT_EQ(error_of(b + "[cluster]\ndatabase = \"host=db\"\nnode = true\n"),
            "test.toml:5: key 'cluster.node': expected a string");
  EXPECT_EQ(error_of(b + "[cluster]\ndatabase = \"host=db\"\nbogus = 1\n"),
            "test.toml:5: key 'cluster.bogus': unknown key");
}

TEST(ClusterConfig, AddressIsAnIpAddress) {
  const std::string b = std::string(kBase) + "[cluster]\ndatabase = \"postgresql://db/ftpsd\"\n";
  auto c = load(b);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cluster->address, "");
  c = load(b + "address = \"10.0.1.11\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cluster->address, "10.0.1.11");
  c = load(b + "address = \"::ffff:10.0.1.12\"\n");  // IPv4-mapped: the IPv4 address
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cluster->address, "10.0.1.12");
  c = load(b + "address = \"2001:db8::11\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cluster->address, "2001:db8::11");
  const std::string wrong =
      "test.toml:5: key 'cluster.address': expected the IP address the load balancer reaches this node at, "
      "such as \"10.0.1.11\"";
  EXPECT_EQ(error_of(b + "address = \"node-a.internal\"\n"), wrong);
  EXPECT_EQ(error_of(b + "address = \"10.0.1.0/24\"\n"), wrong);
  EXPECT_EQ(error_of(b + "address = \"10.0.1.11:21\"\n"), wrong);
  EXPECT_EQ(error_of(b + "address = 10\n"), "test.toml:5: key 'cluster.address': expected a string");
}
