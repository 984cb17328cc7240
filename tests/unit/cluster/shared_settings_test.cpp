// [cluster]: the shared settings laid over a node's file (README "Shared settings").
#include "cluster/shared_settings.hpp"

#include <gtest/gtest.h>

#include "config/load_text.hpp"

using ftpsd::cluster::apply_shared;
using ftpsd::cluster::SharedRow;
using ftpsd::cluster::SharedValues;
using nlohmann::json;

namespace {
constexpr std::string_view kFile = R"([[listeners]]
address = "127.0.0.1:2121"
[passive]
address = "198.51.100.1"
ports = "50000-50009"
[users]
file = "users.toml"
[[domains]]
name = "inherits"
[[domains]]
name = "own"
[domains.passive]
address = "198.51.100.2"
ports = "50100-50109"
)";

SharedRow row(json settings) {
  return SharedRow{.revision = 1, .settings = std::move(settings), .node = "node-a"};
}
}  // namespace

TEST(SharedSettings, TheDefaultsSharedKeysApplyToItAndToTheDomainsThatInheritThem) {
  auto c = ftpsd::config::test_support::load(kFile);
  ASSERT_TRUE(c) << c.error().message;
  const SharedValues values{
      {"default",
       row(json{{"address", "203.0.113.5"},
                {"overrides", json::array({json{{"networks", {"10.0.0.0/8"}}, {"address", "local"}}})}})}};
  std::vector<std::string> problems;
  apply_shared(*c, values, &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(c->passive.address, "203.0.113.5");
  ASSERT_EQ(c->passive.address_overrides.size(), 1U);
  EXPECT_EQ(c->passive.address_overrides[0].address, "local");
  EXPECT_EQ(c->passive.address_overrides[0].networks[0].to_string(), "10.0.0.0/8");
  // Node-local: the ports stay the file's.
  ASSERT_TRUE(c->passive.ports);
  EXPECT_EQ(c->passive.ports->first, 50000);
  EXPECT_EQ(c->domains[0].passive.address, "203.0.113.5");        // inherited
  EXPECT_EQ(c->domains[1].passive.address, "198.51.100.2");       // its own in the file
  EXPECT_EQ(c->domains[1].passive.address_overrides.size(), 1U);  // not written in its table: inherited
}

TEST(SharedSettings, ADomainsOwnRowAndValuesThatCannotBeReadWhichAreSkipped) {
  auto c = ftpsd::config::test_support::load(kFile);
  ASSERT_TRUE(c) << c.error().message;
  const SharedValues values{{"own", row(json{{"address", ""}})},
                            {"inherits", row(json{{"address", 5}, {"overrides", "nonsense"}})},
                            {"gone", row(json{{"address", "203.0.113.9"}})}};
  std::vector<std::string> problems;
  apply_shared(*c, values, &problems);
  EXPECT_EQ(c->passive.address, "198.51.100.1");
  EXPECT_EQ(c->domains[1].passive.address, "");  // shared: the control connection's address
  EXPECT_EQ(c->domains[1].passive.ports->first, 50100);
  EXPECT_EQ(c->domains[0].passive.address, "198.51.100.1");
  ASSERT_EQ(problems.size(), 2U);
  EXPECT_EQ(problems[0], "domain inherits: the shared passive.address is not a string");
  EXPECT_EQ(problems[1], "domain inherits: the shared passive.address_overrides cannot be read");
}

TEST(SharedSettings, ASharedNullMeansNoneWhateverTheFileSays) {
  auto c = ftpsd::config::test_support::load(kFile);
  ASSERT_TRUE(c) << c.error().message;
  apply_shared(*c, SharedValues{{"own", row(json{{"address", nullptr}, {"overrides", nullptr}})}});
  EXPECT_EQ(c->domains[1].passive.address, "");
  EXPECT_TRUE(c->domains[1].passive.address_overrides.empty());
  EXPECT_EQ(c->passive.address, "198.51.100.1");
}
