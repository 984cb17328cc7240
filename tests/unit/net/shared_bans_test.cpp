// Bans in a cluster: the shared list (replaced wholesale, checked at accept, merged in list()), the
// changes handed to the BanSink, and a ban gone from the shared list lifted here too.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "net/bans.hpp"
#include "test_ip.hpp"

using namespace ftpsd;
using namespace std::chrono_literals;

using test::ip;

namespace {

using Clock = net::Bans::Clock;
const auto t0 = Clock::time_point{} + 1000h;

inet::IpNetwork net_of(const char* text) {
  return *inet::IpNetwork::parse(text);
}

net::Bans::Shared shared(const char* network, Clock::time_point until, bool automatic = false,
                         const char* node = "node-b") {
  return {.network = net_of(network),
          .until = until,
          .reason = automatic ? "failed logins" : "banned by op",
          .node = node,
          .automatic = automatic};
}

struct Recorder final : net::BanSink {
  std::vector<std::string> events;
  void made(const inet::IpNetwork& network, Clock::time_point until, const std::string& reason,
            bool automatic) override {
    events.push_back("made " + net::Bans::display(network) + " " +
                     std::to_string(std::chrono::duration_cast<std::chrono::seconds>(until - t0).count()) +
                     "s " + reason + (automatic ? " (automatic)" : ""));
  }
  void lifted(const inet::IpNetwork& network) override {
    events.push_back("lifted " + net::Bans::display(network));
  }
};

}  // namespace

TEST(SharedBans, RefusedAtAcceptAndReplacedWholesale) {
  const config::BansConfig cfg{.max_failures = 3, .window = 60s, .duration = 300s};
  net::Bans bans;
  bans.replace_shared({shared("10.0.0.9", t0 + 60s), shared("10.1.0.0/16", t0 + 120s)}, t0, t0);
  EXPECT_EQ(bans.banned_until(ip("10.0.0.9"), cfg, t0 + 1s), t0 + 60s);
  EXPECT_EQ(bans.banned_until(ip("::ffff:10.0.0.9"), cfg, t0 + 1s), t0 + 60s) << "v4-mapped is the same";
  EXPECT_EQ(bans.banned_until(ip("10.1.2.3"), cfg, t0 + 1s), t0 + 120s);
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.8"), cfg, t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.9"), cfg, t0 + 60s)) << "over at its end";
  EXPECT_EQ(bans.banned_count(t0 + 1s), 2u);
  bans.replace_shared({shared("10.0.0.7", t0 + 60s)}, t0 + 2s, t0 + 2s);
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.9"), cfg, t0 + 2s));
  EXPECT_FALSE(bans.banned_until(ip("10.1.2.3"), cfg, t0 + 2s));
  EXPECT_TRUE(bans.banned_until(ip("10.0.0.7"), cfg, t0 + 2s));
}

TEST(SharedBans, AnotherNodesFailureBanSparesThisNodesExemptNetworks) {
  config::BansConfig cfg{.max_failures = 3, .window = 60s, .duration = 300s};
  cfg.exempt.push_back(net_of("192.168.0.0/16"));
  net::Bans bans;
  bans.replace_shared({shared("192.168.1.1", t0 + 60s, true), shared("192.168.1.2", t0 + 60s, false)}, t0,
                      t0);
  EXPECT_FALSE(bans.banned_until(ip("192.168.1.1"), cfg, t0 + 1s));
  EXPECT_EQ(bans.banned_until(ip("192.168.1.2"), cfg, t0 + 1s), t0 + 60s) << "an operator's ban applies";
}

TEST(SharedBans, BansMadeAndLiftedHereGoToTheSink) {
  const config::BansConfig cfg{.max_failures = 2, .window = 60s, .duration = 300s};
  net::Bans bans;
  auto sink = std::make_shared<Recorder>();
  bans.share(sink, "node-a");
  bans.record_failure(ip("10.0.0.1"), cfg, t0);
  EXPECT_TRUE(sink->events.empty()) << "a failure is no ban yet";
  bans.record_failure(ip("::ffff:10.0.0.1"), cfg, t0 + 10s);
  ASSERT_TRUE(bans.ban(net_of("10.2.0.0/24"), t0 + 900s, "banned by op", t0 + 20s));
  EXPECT_TRUE(bans.lift(net_of("10.0.0.1"), t0 + 30s));
  EXPECT_FALSE(bans.lift(net_of("10.0.0.3"), t0 + 30s)) << "no ban: nothing to share";
  EXPECT_EQ(sink->events,
            (std::vector<std::string>{"made 10.0.0.1 310s failed logins (automatic)",
                                      "made 10.2.0.0/24 900s banned by op", "lifted 10.0.0.1"}));
  bans.share(nullptr, "");
  ASSERT_TRUE(bans.ban(net_of("10.3.0.0/24"), t0 + 900s, "banned by op", t0 + 40s));
  EXPECT_EQ(sink->events.size(), 3u) << "no sink, no more events";
}

TEST(SharedBans, LiftingAnotherNodesBanHereIsSharedAndAppliesAtOnce) {
  const config::BansConfig cfg{.max_failures = 3, .window = 60s, .duration = 300s};
  net::Bans bans;
  auto sink = std::make_shared<Recorder>();
  bans.share(sink, "node-a");
  bans.replace_shared({shared("10.0.0.9", t0 + 60s, true), shared("10.1.0.0/16", t0 + 120s)}, t0, t0);
  EXPECT_TRUE(bans.lift(net_of("10.0.0.9"), t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.9"), cfg, t0 + 1s));
  EXPECT_FALSE(bans.lift(net_of("10.1.0.0/24"), t0 + 1s)) << "only the very network";
  EXPECT_TRUE(bans.lift(net_of("10.1.0.0/16"), t0 + 1s));
  EXPECT_FALSE(bans.banned_until(ip("10.1.2.3"), cfg, t0 + 1s));
  EXPECT_EQ(sink->events, (std::vector<std::string>{"lifted 10.0.0.9", "lifted 10.1.0.0/16"}));
}

TEST(SharedBans, ABanGoneFromTheSharedListIsLiftedHereUnlessMadeAfterTheRead) {
  const config::BansConfig cfg{.max_failures = 1, .window = 60s, .duration = 300s};
  net::Bans bans;
  bans.record_failure(ip("10.0.0.1"), cfg, t0);
  ASSERT_TRUE(bans.ban(net_of("10.2.0.0/24"), t0 + 900s, "banned by op", t0));
  bans.replace_shared(
      {shared("10.0.0.1", t0 + 300s, true, "node-a"), shared("10.2.0.0/24", t0 + 900s, false, "node-a")},
      t0 + 1s, t0 + 1s);
  // Lifted on another node: the next read no longer has them.
  bans.replace_shared({}, t0 + 2s, t0 + 2s);
  EXPECT_FALSE(bans.banned_until(ip("10.0.0.1"), cfg, t0 + 2s));
  EXPECT_FALSE(bans.banned_until(ip("10.2.0.5"), cfg, t0 + 2s));
  EXPECT_TRUE(bans.list(t0 + 2s).empty());
  // A ban made here after a read began is not lifted by it (the database could not know it yet).
  bans.replace_shared({shared("10.0.0.1", t0 + 300s, true, "node-a")}, t0 + 3s, t0 + 3s);
  bans.record_failure(ip("10.0.0.1"), cfg, t0 + 5s);
  bans.replace_shared({}, t0 + 4s, t0 + 6s);
  EXPECT_EQ(bans.banned_until(ip("10.0.0.1"), cfg, t0 + 6s), t0 + 305s);
}

TEST(SharedBans, ListHasThisNodesBansThenTheOthersWithTheirNode) {
  const config::BansConfig cfg{.max_failures = 1, .window = 60s, .duration = 300s};
  net::Bans bans;
  bans.share(std::make_shared<Recorder>(), "node-a");
  bans.record_failure(ip("10.0.0.1"), cfg, t0);
  bans.replace_shared({shared("10.0.0.1", t0 + 300s, true, "node-a"), shared("10.0.0.2", t0 + 60s, true),
                       shared("10.3.0.0/24", t0 + 90s), shared("10.0.0.4", t0 - 1s)},
                      t0, t0);
  const auto listed = bans.list(t0 + 1s);
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].address, "10.0.0.1");
  EXPECT_EQ(listed[0].node, "node-a");
  EXPECT_EQ(listed[1].address, "10.0.0.2");
  EXPECT_EQ(listed[1].node, "node-b");
  EXPECT_EQ(listed[1].reason, "failed logins");
  EXPECT_EQ(listed[1].until, t0 + 60s);
  EXPECT_EQ(listed[2].address, "10.3.0.0/24");
  EXPECT_EQ(listed[2].reason, "banned by op");
  EXPECT_EQ(bans.banned_count(t0 + 1s), 3u);
}
