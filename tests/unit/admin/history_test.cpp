// The dashboard's last hour: samples kept oldest first, at most an hour of them, rates between them.
#include "admin/history.hpp"

#include <gtest/gtest.h>

using namespace ftpsd::admin;
using std::chrono::seconds;

namespace {
Sample at(std::chrono::system_clock::time_point t, std::uint64_t sent, std::uint64_t received) {
  return {.time = t, .sessions = 2, .transfers = 1, .bytes_sent = sent, .bytes_received = received};
}
}  // namespace

TEST(History, RatesBetweenSamplesAndNow) {
  History h;
  const auto t0 = std::chrono::system_clock::time_point(seconds(1'800'000'000));
  h.add(at(t0, 1000, 0));
  h.add(at(t0 + seconds(10), 11000, 500));
  const auto j = h.to_json(at(t0 + seconds(15), 21000, 400));
  EXPECT_EQ(j["interval_seconds"], 10);
  ASSERT_EQ(j["samples"].size(), 2U);
  EXPECT_EQ(j["samples"][0]["time"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(j["samples"][0]["sent_per_second"], 0.0) << "no sample before the first";
  EXPECT_EQ(j["samples"][1]["sent_per_second"], 1000.0);
  EXPECT_EQ(j["samples"][1]["received_per_second"], 50.0);
  EXPECT_EQ(j["samples"][1]["sessions"], 2);
  EXPECT_EQ(j["samples"][1]["transfers"], 1);
  EXPECT_EQ(j["now"]["sent_per_second"], 2000.0);
  EXPECT_EQ(j["now"]["received_per_second"], 0.0) << "a counter that went down is no negative rate";
}

TEST(History, KeepsAnHour) {
  History h;
  const auto t0 = std::chrono::system_clock::time_point(seconds(1'800'000'000));
  for (std::size_t i = 0; i < History::kKept + 5; ++i) h.add(at(t0 + i * History::kInterval, i, 0));
  const auto j = h.to_json(at(t0, 0, 0));
  ASSERT_EQ(j["samples"].size(), History::kKept);
  EXPECT_EQ(j["samples"][0]["time"], "2027-01-15T08:00:50Z");
}

TEST(History, NowWithoutSamples) {
  History h;
  const auto j = h.to_json(at(std::chrono::system_clock::time_point(seconds(1'800'000'000)), 5, 5));
  EXPECT_TRUE(j["samples"].empty());
  EXPECT_EQ(j["now"]["sent_per_second"], 0.0);
}
