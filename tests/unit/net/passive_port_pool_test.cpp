#include "net/passive_port_pool.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace ftpsd;

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
