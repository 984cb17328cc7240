// The cache of verified user records that serves logins while the cluster database is unreachable.
#include "cluster/user_cache.hpp"

#include <gtest/gtest.h>

using ftpsd::auth::User;
using ftpsd::cluster::UserCache;
using namespace std::chrono_literals;

namespace {
std::shared_ptr<const User> user(const std::string& name, const std::string& hash = "$6$x") {
  return std::make_shared<const User>(User{.name = name, .password_hash = hash, .root = "/srv"});
}
}  // namespace

TEST(UserCache, ServesARecordUntilTtlAfterItsVerification) {
  UserCache cache(10min);
  const UserCache::Clock::time_point t0{};
  cache.remember("default", user("alice"), t0);
  ASSERT_NE(cache.find("default", "alice", t0 + 9min + 59s), nullptr);
  EXPECT_EQ(cache.find("default", "alice", t0 + 9min)->name, "alice");
  EXPECT_EQ(cache.find("default", "alice", t0 + 10min), nullptr);  // expired: dropped
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_EQ(cache.find("default", "alice", t0), nullptr);  // and gone for good
}

TEST(UserCache, ANewVerificationRestartsTheTtl) {
  UserCache cache(1min);
  const UserCache::Clock::time_point t0{};
  cache.remember("default", user("alice", "$6$old"), t0);
  cache.remember("default", user("alice", "$6$new"), t0 + 50s);
  const auto found = cache.find("default", "alice", t0 + 100s);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->password_hash, "$6$new");
}

TEST(UserCache, DomainsAreSeparateAndForgetDrops) {
  UserCache cache(1min);
  const UserCache::Clock::time_point t0{};
  cache.remember("default", user("alice"), t0);
  EXPECT_EQ(cache.find("other", "alice", t0), nullptr);
  cache.remember("other", user("alice"), t0);
  cache.forget("default", "alice");
  EXPECT_EQ(cache.find("default", "alice", t0), nullptr);
  EXPECT_NE(cache.find("other", "alice", t0), nullptr);
}

TEST(UserCache, RememberDropsExpiredRecords) {
  UserCache cache(1min);
  const UserCache::Clock::time_point t0{};
  cache.remember("default", user("alice"), t0);
  cache.remember("default", user("bob"), t0 + 30s);
  cache.remember("default", user("carol"), t0 + 61s);  // alice's record is older than the ttl now
  EXPECT_EQ(cache.size(), 2U);
}
