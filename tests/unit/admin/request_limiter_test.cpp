// The Manager's per-address request rate limit: a burst, then one request per 1/rate seconds.
#include "admin/request_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ftpsd::admin;
using std::chrono::milliseconds;

TEST(RequestLimiter, ABurstThenTheRateThenWaitsThatSayWhen) {
  RequestLimiter limiter(2, 3);  // 2 a second, 3 at once
  const auto t0 = RequestLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("192.0.2.1", t0)) << i;
  const auto wait = limiter.take("192.0.2.1", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(*wait), milliseconds(500));
  EXPECT_FALSE(limiter.take("192.0.2.2", t0)) << "another address has a bucket of its own";
  EXPECT_TRUE(limiter.take("192.0.2.1", t0 + milliseconds(499)));
  EXPECT_FALSE(limiter.take("192.0.2.1", t0 + milliseconds(500)));
  EXPECT_TRUE(limiter.take("192.0.2.1", t0 + milliseconds(500)));
  // A long pause refills up to the burst, not beyond.
  const auto later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.take("192.0.2.1", later)) << i;
  EXPECT_TRUE(limiter.take("192.0.2.1", later));
}

TEST(RequestLimiter, RateZeroIsNoLimit) {
  RequestLimiter limiter(0, 1);
  const auto t0 = RequestLimiter::Clock::now();
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(limiter.take("192.0.2.1", t0));
  EXPECT_EQ(limiter.size(), 0U);
}

TEST(RequestLimiter, MemoryIsBoundedAndABusyAddressKeepsItsCount) {
  RequestLimiter limiter(1, 2);
  const auto t0 = RequestLimiter::Clock::now();
  EXPECT_FALSE(limiter.take("busy", t0));
  EXPECT_FALSE(limiter.take("busy", t0));
  for (std::size_t i = 0; i < RequestLimiter::kMaxAddresses + 10; ++i)
    (void)limiter.take("10.0." + std::to_string(i), t0);
  EXPECT_LE(limiter.size(), RequestLimiter::kMaxAddresses);
  EXPECT_TRUE(limiter.take("busy", t0)) << "an empty bucket is not the one forgotten";
}
