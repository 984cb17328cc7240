// The Manager's bearer tokens: random, bound to who signed in, valid for their lifetime only.
#include "admin/tokens.hpp"

#include <gtest/gtest.h>

#include <regex>

using namespace ftpsd::admin;
using ftpsd::auth::AdminRole;
using std::chrono::minutes;

TEST(TokenStore, IssuedTokensFindTheirHolderUntilTheyExpire) {
  TokenStore store(minutes(60));
  const auto t0 = TokenStore::Clock::now();
  const auto a = store.issue({.name = "root", .role = AdminRole::kAdmin}, t0);
  const auto b = store.issue({.name = "eve", .role = AdminRole::kViewer}, t0);
  EXPECT_TRUE(std::regex_match(a.token, std::regex("[0-9a-f]{64}"))) << a.token;
  EXPECT_NE(a.token, b.token);
  EXPECT_EQ(a.expires, t0 + minutes(60));
  const auto who = store.find(a.token, t0 + minutes(59));
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "root");
  EXPECT_EQ(who->role, AdminRole::kAdmin);
  EXPECT_EQ(store.find(b.token, t0)->name, "eve");
  EXPECT_FALSE(store.find("", t0));
  EXPECT_FALSE(store.find(a.token.substr(1), t0));
  EXPECT_FALSE(store.find(a.token, t0 + minutes(60))) << "expired";
  EXPECT_EQ(store.size(), 1u) << "an expired token found is dropped";
}

TEST(TokenStore, BoundedInSize) {
  TokenStore store(minutes(60), 3);
  const auto t0 = TokenStore::Clock::now();
  const auto first = store.issue({.name = "a", .role = AdminRole::kViewer}, t0);
  for (int i = 1; i <= 3; ++i) (void)store.issue({.name = "a", .role = AdminRole::kViewer}, t0 + minutes(i));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.find(first.token, t0 + minutes(4))) << "the oldest went first";
  // Expired tokens go when the next one is issued.
  (void)store.issue({.name = "a", .role = AdminRole::kViewer}, t0 + minutes(200));
  EXPECT_EQ(store.size(), 1u);
}

TEST(TokenStore, ARevokedTokenIsFoundNoMoreAndTheCsrfTokenTravelsWithItsHolder) {
  TokenStore store(minutes(60));
  const auto t0 = TokenStore::Clock::now();
  const auto csrf = random_token();
  const auto a = store.issue({.name = "root", .role = AdminRole::kAdmin, .csrf = csrf}, t0);
  EXPECT_EQ(store.find(a.token, t0)->csrf, csrf);
  EXPECT_NE(csrf, a.token);
  EXPECT_EQ(store.expires(a.token, t0), t0 + minutes(60));
  EXPECT_FALSE(store.expires(a.token, t0 + minutes(60)));
  store.revoke(a.token);
  EXPECT_FALSE(store.find(a.token, t0));
  store.revoke("unknown");  // nothing to do
  EXPECT_EQ(store.size(), 0U);
}
