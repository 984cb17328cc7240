#include "net/passive_port_pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "test_ip.hpp"

using namespace ftpsd;
using test::ip;

namespace {

// What an attacker does against a pool whose order comes from std::minstd_rand (as it once did):
// `seen` are consecutive draws of uniform_int_distribution(0, n - 1) over the generator, as an idle
// pool reveals them (the port handed out is the range's first port plus the draw). Every generator
// state that yields seen[0] is run on; one that reproduces the rest predicts the next draw.
std::optional<std::size_t> predict_minstd(const std::vector<std::size_t>& seen, std::size_t n) {
  using Rng = std::minstd_rand;
  // uniform_int_distribution scales a draw x down to (x - min) / scaling: seen[0] leaves `scaling`
  // candidates for x, which is also the generator's state after that draw.
  const std::uint64_t scaling = (Rng::max() - Rng::min()) / n;
  const std::uint64_t first = seen[0] * scaling + Rng::min();
  for (std::uint64_t x = first; x < first + scaling; ++x) {
    Rng rng(static_cast<Rng::result_type>(x));
    std::uniform_int_distribution<std::size_t> dist(0, n - 1);
    bool fits = true;
    for (std::size_t i = 1; i < seen.size() && fits; ++i) fits = dist(rng) == seen[i];
    if (fits) return dist(rng);
  }
  return std::nullopt;
}

constexpr config::PortRange kWideRange{1024, 65535};

}  // namespace

// The attack of the next test works: six draws of a minstd-driven distribution give the seventh.
TEST(PassivePortPool, MinstdOrderIsPredictableFromSixPorts) {
  const std::size_t n = kWideRange.size();
  std::minstd_rand rng(std::random_device{}());
  std::uniform_int_distribution<std::size_t> dist(0, n - 1);
  std::vector<std::size_t> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(dist(rng));
  EXPECT_EQ(predict_minstd(seen, n), dist(rng));
}

// The pool's order comes from a CSPRNG: ports seen by a client do not give away the next one.
TEST(PassivePortPool, NextPortIsNotPredictableFromEarlierOnes) {
  using namespace std::chrono_literals;
  net::PassivePortPool pool(kWideRange, 0s);  // no cooling: on an idle pool the port is the draw
  std::vector<std::size_t> seen;
  for (int i = 0; i < 6; ++i) {
    const auto p = pool.acquire(ip("198.51.100.1"));
    ASSERT_TRUE(p);
    seen.push_back(*p - kWideRange.first);
    pool.release(*p);
  }
  EXPECT_EQ(predict_minstd(seen, kWideRange.size()), std::nullopt);
}

// Every port of the range comes up on an idle pool: the start is drawn over the whole range.
TEST(PassivePortPool, IdlePoolStartsAnywhereInTheRange) {
  using namespace std::chrono_literals;
  net::PassivePortPool pool(config::PortRange{50000, 50007}, 0s);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 400 && seen.size() < 8; ++i) {  // a port missed 400 times: p = 8 * (7/8)^400
    const auto p = pool.acquire(ip("198.51.100.1"));
    ASSERT_TRUE(p);
    seen.insert(*p);
    pool.release(*p);
  }
  EXPECT_EQ(seen.size(), 8u);
}

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

// A reload that changes passive.ports builds a new pool: a port that the previous pool still holds (a
// session of the previous configuration listens on it) is not handed out again until it is released.
TEST(PassivePortPool, AReplacingPoolSkipsThePortsThePreviousOneHolds) {
  using namespace std::chrono_literals;
  auto old_pool = std::make_shared<net::PassivePortPool>(config::PortRange{40000, 40001}, 0s);
  const auto held = old_pool->acquire(ip("198.51.100.1"));
  ASSERT_TRUE(held);
  net::PassivePortPool next(config::PortRange{40000, 40002}, {old_pool}, 0s);
  EXPECT_EQ(next.hold(*held, ip("198.51.100.2")), net::PassivePortPool::Hold::kTaken);
  std::set<std::uint16_t> handed;
  for (int i = 0; i < 2; ++i) {
    const auto p = next.acquire(ip("198.51.100.2"));
    ASSERT_TRUE(p);
    handed.insert(*p);
  }
  EXPECT_EQ(handed.count(*held), 0U);
  EXPECT_EQ(handed.size(), 2U);
  // Every free port of the new range is held by the old pool: exhausted, counted.
  EXPECT_FALSE(next.acquire(ip("198.51.100.2")));
  EXPECT_EQ(next.exhaustions(), 1U);
  old_pool->release(*held);
  EXPECT_EQ(next.acquire(ip("198.51.100.2")), held);
}

// The previous pool is not kept alive by the new one: once the last session of the previous
// configuration is gone, its ports are free in the new pool.
TEST(PassivePortPool, AReplacedPoolThatIsGoneHoldsNothing) {
  using namespace std::chrono_literals;
  auto old_pool = std::make_shared<net::PassivePortPool>(config::PortRange{40000, 40000}, 0s);
  ASSERT_TRUE(old_pool->acquire(ip("198.51.100.1")));
  const std::weak_ptr<const net::PassivePortPool> weak = old_pool;
  net::PassivePortPool next(config::PortRange{40000, 40000}, {old_pool}, 0s);
  EXPECT_FALSE(next.acquire(ip("198.51.100.2")));
  old_pool.reset();
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(next.acquire(ip("198.51.100.2")), std::optional<std::uint16_t>(40000));
}

// A port the previous pool released for a client moments ago is cooling down for that client in the
// new pool too (its last connection may be in TIME_WAIT), while another port is free.
TEST(PassivePortPool, AReplacingPoolAvoidsAPortCoolingInThePreviousOne) {
  using namespace std::chrono_literals;
  auto old_pool = std::make_shared<net::PassivePortPool>(config::PortRange{40000, 40000}, 60s);
  const auto now = net::PassivePortPool::Clock::now();
  ASSERT_TRUE(old_pool->acquire(ip("198.51.100.1"), now));
  old_pool->release(40000, now);
  net::PassivePortPool next(config::PortRange{40000, 40001}, {old_pool}, 60s);
  EXPECT_EQ(next.hold(40000, ip("198.51.100.1"), now + 1s), net::PassivePortPool::Hold::kCooling);
  EXPECT_EQ(next.hold(40000, ip("198.51.100.2"), now + 1s), net::PassivePortPool::Hold::kFree);
  for (int i = 0; i < 20; ++i) {
    const auto p = next.acquire(ip("198.51.100.1"), now + 1s);
    EXPECT_EQ(p, std::optional<std::uint16_t>(40001));
    next.release(40001, now - 120s);  // released long ago for this client: not cooling here
  }
}
