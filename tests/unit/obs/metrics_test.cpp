#include "obs/metrics.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace ftpsd::obs {
namespace {

struct Gauges {
  std::int64_t tls;
  std::int64_t plain;
  bool operator==(const Gauges&) const = default;
};

Gauges now() {
  return {metrics().sessions_tls.load(), metrics().sessions_plain.load()};
}

TEST(SessionGauge, CountsASessionInOneGaugeAndBalancesWhateverHappened) {
  const Gauges before = now();
  {
    SessionGauge clear;  // never secured
    SessionGauge secured;
    SessionGauge downgraded;
    EXPECT_EQ(now(), (Gauges{before.tls, before.plain + 3}));
    secured.set_tls(true);
    secured.set_tls(true);  // said twice: still one session
    downgraded.set_tls(true);
    EXPECT_EQ(now(), (Gauges{before.tls + 2, before.plain + 1}));
    downgraded.set_tls(false);  // CCC
    EXPECT_TRUE(secured.tls());
    EXPECT_FALSE(downgraded.tls());
    EXPECT_EQ(now(), (Gauges{before.tls + 1, before.plain + 2}));
  }
  EXPECT_EQ(now(), before);
  {
    std::optional<SessionGauge> failed_handshake(std::in_place);  // ends before it is secured
    failed_handshake.reset();
  }
  EXPECT_EQ(now(), before);
}

}  // namespace
}  // namespace ftpsd::obs
