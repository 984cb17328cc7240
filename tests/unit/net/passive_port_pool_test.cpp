#include "net/passive_port_pool.hpp"

#include <gtest/gtest.h>

#include <set>

#include "test_ip.hpp"

using namespace ftpsd;
using test::ip;

TEST(PassivePortPool, HandsOutEveryPortOnceThenExhausts) {
  net::PassivePortPool pool(config::PortRange{50000, 50009});
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 10; ++i) {
    auto p = pool.acquire();
    ASSERT_TRUE(p);
    EXPECT_GE(*p, 50000);
    EXPECT_LE(*p, 50009);
    EXPECT_TRUE(seen.insert(*p).second);
  }
  EXPECT_FALSE(pool.acquire());
  pool.release(50003);
  EXPECT_EQ(pool.acquire(), 50003);
  EXPECT_EQ(pool.in_use(), 10u);
}

TEST(PassivePortPool, OrderIsNotSequential) {
  net::PassivePortPool pool(config::PortRange{40000, 40999});
  int sequential = 0;
  auto prev = *pool.acquire();
  for (int i = 0; i < 50; ++i) {
    auto p = *pool.acquire();
    sequential += p == prev + 1;
    prev = p;
  }
  EXPECT_LT(sequential, 10);
}

TEST(PassivePortPool, WithoutRangeTheKernelPicks) {
  net::PassivePortPool pool(std::nullopt);
  EXPECT_EQ(pool.acquire(), 0);
  EXPECT_EQ(pool.acquire(), 0);
}

TEST(PortLease, ReleasesOnDestruction) {
  net::PassivePortPool pool(config::PortRange{1, 1});
  {
    net::PortLease lease(&pool, *pool.acquire());
    EXPECT_FALSE(pool.acquire());
  }
  EXPECT_TRUE(pool.acquire());
}

TEST(PassivePortPool, SameClientAvoidsAPortInTimeWaitOtherClientsMayTakeIt) {
  using namespace std::chrono_literals;
  net::PassivePortPool pool(config::PortRange{50000, 50001}, 60s);
  const auto t0 = net::PassivePortPool::Clock::now();
  const auto a = ip("198.51.100.1");
  const auto b = ip("198.51.100.2");
  for (int round = 0; round < 20; ++round) {
    const auto t = t0 + round * 200s;  // every port has cooled down since the last round
    auto p = pool.acquire(a, t);
    ASSERT_TRUE(p);
    pool.release(*p, t);
    // The same client gets the other port while the first may be in TIME_WAIT.
    auto q = pool.acquire(a, t + 1s);
    ASSERT_TRUE(q);
    EXPECT_NE(*q, *p);
    // A different client may take the port the first one just released.
    auto r = pool.acquire(b, t + 2s);
    ASSERT_EQ(r, *p);
    pool.release(*q, t + 3s);
    pool.release(*r, t + 3s);
  }
  EXPECT_EQ(pool.early_reuses(), 0u);
}

TEST(PassivePortPool, CoolingPortIsReusedWhenNothingElseIsFreeAndAfterTheDelay) {
  using namespace std::chrono_literals;
  net::PassivePortPool pool(config::PortRange{50000, 50000}, 60s);
  const auto t0 = net::PassivePortPool::Clock::now();
  const auto a = ip("198.51.100.1");
  ASSERT_EQ(pool.acquire(a, t0), 50000);
  pool.release(50000, t0);
  EXPECT_EQ(pool.acquire(a, t0 + 1s), 50000);  // better than a 425
  EXPECT_EQ(pool.early_reuses(), 1u);
  pool.release(50000, t0 + 1s);
  EXPECT_EQ(pool.acquire(a, t0 + 62s), 50000);
  EXPECT_EQ(pool.early_reuses(), 1u);
}

TEST(PassivePortPool, ExhaustionIsCountedAndWakesWaitersOnRelease) {
  net::PassivePortPool pool(config::PortRange{50000, 50000});
  ASSERT_TRUE(pool.acquire());
  EXPECT_FALSE(pool.acquire());
  EXPECT_FALSE(pool.acquire());
  EXPECT_EQ(pool.exhaustions(), 2u);
  int woken = 0;
  const auto id = pool.add_waiter([&] { ++woken; });
  pool.release(50000);
  EXPECT_EQ(woken, 1);
  pool.remove_waiter(id);
  ASSERT_TRUE(pool.acquire());
  pool.release(50000);
  EXPECT_EQ(woken, 1);
}

TEST(PassivePortPool, NeverLeavesTheRange) {
  net::PassivePortPool pool(config::PortRange{60000, 60004});
  for (int i = 0; i < 1000; ++i) {
    auto p = pool.acquire(ip("198.51.100.1"));
    ASSERT_TRUE(p);
    EXPECT_GE(*p, 60000);
    EXPECT_LE(*p, 60004);
    pool.release(*p);
  }
}
