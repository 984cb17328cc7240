// KeyedCounter (per-address and per-user session limits), Bans (failure window, ban, expiry, memory
// bound, exempt networks) and RateLimiter (token bucket).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "net/bans.hpp"
#include "net/connection_limiter.hpp"
#include "net/rate_limiter.hpp"
#include "test_ip.hpp"

using namespace ftpsd;
using namespace std::chrono_literals;

using test::ip;

TEST(KeyedCounter, LimitAndRelease) {
  net::KeyedCounter c;
  auto a = c.try_acquire("1.2.3.4", 2);
  auto b = c.try_acquire("1.2.3.4", 2);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(c.try_acquire("1.2.3.4", 2));
  EXPECT_TRUE(c.try_acquire("5.6.7.8", 2));  // another key has its own count (released at once)
  EXPECT_EQ(c.count("1.2.3.4"), 2u);
  a->reset();
  EXPECT_EQ(c.count("1.2.3.4"), 1u);
  auto again = c.try_acquire("1.2.3.4", 2);
  EXPECT_TRUE(again);
  net::KeyedCounter::Lease moved = std::move(*again);
  EXPECT_FALSE(again->held());
  EXPECT_TRUE(moved.held());
  b.reset();
  moved.reset();
  EXPECT_EQ(c.count("1.2.3.4"), 0u);
  EXPECT_EQ(c.keys(), 0u);  // no entry left behind
}

TEST(KeyedCounter, ZeroMeansNoLimitButCounts) {
  net::KeyedCounter c;
  std::vector<net::KeyedCounter::Lease> held;
  for (int i = 0; i < 100; ++i) held.push_back(std::move(*c.try_acquire("k", 0)));
  EXPECT_EQ(c.count("k"), 100u);
  held.clear();
  EXPECT_EQ(c.count("k"), 0u);
}

TEST(KeyedCounter, ExactUnderConcurrentBursts) {
  net::KeyedCounter c;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<net::KeyedCounter::Lease>> held(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (auto l = c.try_acquire("k", 10)) {
          ++admitted;
          held[static_cast<std::size_t>(t)].push_back(std::move(*l));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 10);
  EXPECT_EQ(c.count("k"), 10u);
}

TEST(Bans, BanAfterMaxFailuresWithinTheWindow) {
  config::BansConfig cfg{.max_failures = 3, .window = 60s, .duration = 300s};
  net::Bans bans;
  const auto t0 = net::Bans::Clock::time_point{} + 1000h;
  EXPECT_EQ(bans.record_failure(ip("10.0.0.1"), cfg, t0).recent, 1u);
  EXPECT_FALSE(bans.record_failure(ip("10.0.0.1"), cfg, t0 + 10s).banned);
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.1"), cfg, t0 + 10s));
  const auto third = bans.record_failure(ip("10.0.0.1"), cfg, t0 + 20s);
  EXPECT_TRUE(third.banned);
  EXPECT_EQ(third.recent, 3u);
  EXPECT_EQ(*bans.banned_until(ip("10.0.0.1"), cfg, t0 + 21s), t0 + 320s);
  EXPECT_TRUE(bans.banned_until(ip("::ffff:10.0.0.1"), cfg, t0 + 21s)) << "v4-mapped is the same client";
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.2"), cfg, t0 + 21s));
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.1"), cfg, t0 + 320s)) << "the ban ends";
  EXPECT_EQ(bans.size(), 0u) << "and the entry is dropped";
}

TEST(Bans, FailuresOutsideTheWindowAreForgotten) {
  config::BansConfig cfg{.max_failures = 3, .window = 60s, .duration = 300s};
  net::Bans bans;
  const auto t0 = net::Bans::Clock::time_point{} + 1000h;
  bans.record_failure(ip("10.0.0.1"), cfg, t0);
  bans.record_failure(ip("10.0.0.1"), cfg, t0 + 30s);
  const auto f = bans.record_failure(ip("10.0.0.1"), cfg, t0 + 61s);  // the first has expired
  EXPECT_FALSE(f.banned);
  EXPECT_EQ(f.recent, 2u);
  EXPECT_EQ(bans.recent_failures(ip("10.0.0.1"), cfg, t0 + 200s), 0u);
}

TEST(Bans, ExemptNetworksAndDisabled) {
  config::BansConfig cfg{.max_failures = 1, .window = 60s, .duration = 300s};
  cfg.exempt.push_back(*inet::IpNetwork::parse("192.168.0.0/16"));
  net::Bans bans;
  const auto t0 = net::Bans::Clock::time_point{} + 1000h;
  const auto f = bans.record_failure(ip("192.168.1.2"), cfg, t0);
  EXPECT_FALSE(f.banned);
  EXPECT_FALSE(f.tracked);
  EXPECT_FALSE(bans.banned_until(ip("192.168.1.2"), cfg, t0));
  cfg.max_failures = 0;  // counted (for the login delay) but never banned
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(bans.record_failure(ip("10.9.9.9"), cfg, t0).banned);
  EXPECT_EQ(bans.recent_failures(ip("10.9.9.9"), cfg, t0), 16u) << "bounded memory per address";
  EXPECT_FALSE(bans.banned_until(ip("10.9.9.9"), cfg, t0));
}

TEST(Bans, TableSizeIsBounded) {
  config::BansConfig cfg{.max_failures = 2, .window = 60s, .duration = 300s, .max_entries = 100};
  net::Bans bans;
  const auto t0 = net::Bans::Clock::time_point{} + 1000h;
  // Ten banned addresses, then a flood of single failures from many addresses.
  for (int i = 0; i < 10; ++i) {
    const auto a = asio::ip::make_address_v4(0x0a000000u + static_cast<unsigned>(i));
    bans.record_failure(a, cfg, t0);
    EXPECT_TRUE(bans.record_failure(a, cfg, t0).banned);
  }
  for (unsigned i = 0; i < 10000; ++i) {
    bans.record_failure(asio::ip::make_address_v4(0x0b000000u + i), cfg, t0 + 1s);
    ASSERT_LE(bans.size(), 100u);
  }
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(
        bans.banned_until(asio::ip::make_address_v4(0x0a000000u + static_cast<unsigned>(i)), cfg, t0 + 2s))
        << "a flood of addresses does not lift the bans";
  EXPECT_EQ(bans.banned_count(t0 + 2s), 10u);
}

TEST(RateLimiter, PacesToTheRate) {
  net::RateLimiter r;
  const auto t0 = net::RateLimiter::Clock::time_point{} + 1000h;
  EXPECT_EQ(r.reserve(1000, 0, t0), net::RateLimiter::Clock::duration::zero()) << "0: unlimited";
  // 1 MB/s: ten 100 kB reservations at one instant need about 0.9 s of waiting for the last
  // (the first 100 ms are burst credit).
  net::RateLimiter::Clock::duration last{};
  for (int i = 0; i < 10; ++i) last = r.reserve(100'000, 1'000'000, t0);
  EXPECT_NEAR(std::chrono::duration<double>(last).count(), 0.9, 0.01);
  // After an idle second, only the burst is credited, not the whole second.
  const auto w = r.reserve(300'000, 1'000'000, t0 + 3s);
  EXPECT_NEAR(std::chrono::duration<double>(w).count(), 0.2, 0.01);
}

TEST(Bans, AnOperatorBansANetworkWhateverTheSettingsAndLiftsIt) {
  config::BansConfig cfg{.max_failures = 0, .window = 60s, .duration = 300s};  // failures never ban
  cfg.exempt.push_back(*inet::IpNetwork::parse("10.0.0.0/8"));
  net::Bans bans;
  const auto t0 = net::Bans::Clock::time_point{} + 1000h;
  const auto net24 = *inet::IpNetwork::parse("10.1.2.0/24");
  ASSERT_TRUE(bans.ban(net24, t0 + 60s, "banned by op", t0));
  EXPECT_EQ(*bans.banned_until(ip("10.1.2.77"), cfg, t0 + 1s), t0 + 60s);
  EXPECT_TRUE(bans.banned_until(ip("::ffff:10.1.2.3"), cfg, t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("10.1.3.1"), cfg, t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("10.1.2.77"), cfg, t0 + 60s)) << "the ban ends";
  ASSERT_TRUE(bans.ban(*inet::IpNetwork::parse("10.9.9.9"), t0 + 120s, "banned by root", t0));
  const auto listed = bans.list(t0 + 1s);
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[0].address, "10.1.2.0/24");
  EXPECT_EQ(listed[1].address, "10.9.9.9");
  EXPECT_EQ(listed[1].reason, "banned by root");
  EXPECT_EQ(bans.banned_count(t0 + 1s), 2U);
  EXPECT_FALSE(bans.lift(*inet::IpNetwork::parse("10.1.0.0/16"), t0 + 1s)) << "only the very network";
  EXPECT_TRUE(bans.lift(net24, t0 + 1s));
  EXPECT_FALSE(bans.lift(net24, t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("10.1.2.77"), cfg, t0 + 2s));
  EXPECT_FALSE(bans.lift(*inet::IpNetwork::parse("10.9.9.9"), t0 + 200s)) << "an expired ban is no ban";
}

TEST(Bans, LiftingAnAddressEndsItsBanAfterFailedLogins) {
  config::BansConfig cfg{.max_failures = 1, .window = 60s, .duration = 300s};
  net::Bans bans;
  const auto t0 = net::Bans::Clock::time_point{} + 1000h;
  EXPECT_TRUE(bans.record_failure(ip("192.0.2.5"), cfg, t0).banned);
  const auto listed = bans.list(t0 + 1s);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].address, "192.0.2.5");
  EXPECT_EQ(listed[0].reason, "failed logins");
  EXPECT_EQ(listed[0].until, t0 + 300s);
  EXPECT_TRUE(bans.lift(*inet::IpNetwork::parse("192.0.2.5/32"), t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("192.0.2.5"), cfg, t0 + 2s));
  EXPECT_TRUE(bans.list(t0 + 2s).empty());
  EXPECT_EQ(net::Bans::display(*inet::IpNetwork::parse("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(net::Bans::display(*inet::IpNetwork::parse("2001:db8::/32")), "2001:db8::/32");
}
