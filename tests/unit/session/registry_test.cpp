#include "session/registry.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace ftpsd::session {
namespace {

// A clock that moves only when told (the registry reads only now()).
class SteppedClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const noexcept override { return now_; }
  void wait_until(asio::steady_timer&, time_point, std::shared_ptr<Alarm>) override {}
  void cancel(asio::steady_timer&) noexcept override {}
  void advance(duration d) { now_ += d; }

 private:
  time_point now_ = std::chrono::steady_clock::now();
};

SessionFacts facts(std::uint64_t id, std::string client = "192.0.2.7") {
  return {.id = id, .client = std::move(client), .listener = "0.0.0.0:21", .domain = "default"};
}

TEST(SessionRegistry, ListsEachSessionUntilItsRegistrationGoes) {
  asio::io_context loop;
  SessionRegistry registry;
  auto a = registry.add(facts(7), loop.get_executor(), {});
  {
    auto b = registry.add(facts(3, "2001:db8::1"), loop.get_executor(), {});
    const auto all = registry.list();
    ASSERT_EQ(all.size(), 2U);
    EXPECT_EQ(all[0].id, 3U);  // by id
    EXPECT_EQ(all[0].client, "2001:db8::1");
    EXPECT_EQ(all[1].id, 7U);
    EXPECT_EQ(all[1].listener, "0.0.0.0:21");
    EXPECT_EQ(all[1].domain, "default");
  }
  EXPECT_EQ(registry.size(), 1U);
  EXPECT_FALSE(registry.find(3).has_value());
  ASSERT_TRUE(registry.find(7).has_value());
  a.reset();
  EXPECT_EQ(registry.size(), 0U);
  EXPECT_TRUE(registry.list().empty());
}

TEST(SessionRegistry, AMovedRegistrationRemovesItsSessionOnce) {
  asio::io_context loop;
  SessionRegistry registry;
  auto a = registry.add(facts(1), loop.get_executor(), {});
  SessionRegistry::Registration moved = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from handle is empty
  EXPECT_EQ(registry.size(), 1U);
  auto other = registry.add(facts(2), loop.get_executor(), {});
  moved = std::move(other);  // session 1 leaves, session 2 stays
  ASSERT_EQ(registry.size(), 1U);
  EXPECT_EQ(registry.list().front().id, 2U);
}

TEST(SessionRegistry, ViewShowsUserTlsAndTheRunningTransfer) {
  asio::io_context loop;
  SessionRegistry registry;
  auto s = registry.add(facts(5), loop.get_executor(), {});
  EXPECT_EQ(registry.find(5)->user, "");
  EXPECT_FALSE(registry.find(5)->transfer.has_value());
  s->set_user("alice");
  s->set_tls("TLSv1.3 TLS_AES_256_GCM_SHA384");
  s->set_data_tls_reused(true);
  auto progress = std::make_shared<TransferProgress>();
  progress->total = 1000;
  s->transfer_started("RETR", "/big.iso", progress);
  progress->bytes += 300;
  progress->bytes += 100;
  auto v = registry.find(5);
  ASSERT_TRUE(v && v->transfer);
  EXPECT_EQ(v->user, "alice");
  EXPECT_EQ(v->tls, "TLSv1.3 TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(v->data_tls_reused, true);
  EXPECT_EQ(v->transfer->command, "RETR");
  EXPECT_EQ(v->transfer->path, "/big.iso");
  EXPECT_EQ(v->transfer->bytes, 400U);
  EXPECT_EQ(v->transfer->total, 1000U);
  s->transfer_ended();
  EXPECT_FALSE(registry.find(5)->transfer.has_value());
  s->transfer_started("STOR", "/up", std::make_shared<TransferProgress>());  // a new transfer: from 0
  EXPECT_EQ(registry.find(5)->transfer->bytes, 0U);
  EXPECT_EQ(registry.find(5)->transfer->command, "STOR");
}

TEST(SessionRegistry, IdleCountsFromTheLastCommandOnTheSessionsClock) {
  asio::io_context loop;
  SessionRegistry registry;
  SteppedClock clock;
  auto s = registry.add(facts(1), loop.get_executor(), {}, clock);
  EXPECT_EQ(registry.find(1)->idle, Clock::duration::zero());
  clock.advance(std::chrono::seconds(42));
  EXPECT_EQ(registry.find(1)->idle, std::chrono::seconds(42));
  s->touch();
  EXPECT_EQ(registry.find(1)->idle, Clock::duration::zero());
  clock.advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(registry.find(1)->idle, std::chrono::milliseconds(1500));
}

// The request runs on the session's loop, and end() does not wait for that loop: here the loop is busy
// (blocked) when end() is called, and end() still returns.
TEST(SessionRegistry, EndPostsToTheSessionsLoopWithoutWaitingForIt) {
  asio::io_context loop;
  auto work = asio::make_work_guard(loop);
  SessionRegistry registry;
  std::promise<std::thread::id> ended_on;
  auto s =
      registry.add(facts(9), loop.get_executor(), [&] { ended_on.set_value(std::this_thread::get_id()); });
  std::promise<void> release;
  asio::post(loop, [f = release.get_future().share()] { f.wait(); });  // the loop is busy
  std::thread runner([&] { loop.run(); });
  EXPECT_TRUE(registry.end(9));  // returns although the loop cannot run anything yet
  EXPECT_FALSE(registry.end(10));
  release.set_value();
  auto f = ended_on.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get(), runner.get_id());
  work.reset();
  runner.join();
}

TEST(SessionRegistry, ReadersOnOtherThreadsSeeConsistentEntries) {
  asio::io_context loop;
  SessionRegistry registry;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      for (const auto& v : registry.list()) {
        EXPECT_FALSE(v.client.empty());
        if (v.transfer) EXPECT_LE(v.transfer->bytes, 64U * 1000U);
      }
    }
  });
  for (std::uint64_t i = 1; i <= 2000; ++i) {
    auto s = registry.add(facts(i), loop.get_executor(), {});
    s->set_user("user" + std::to_string(i));
    auto progress = std::make_shared<TransferProgress>();
    progress->total = 64000;
    s->transfer_started("RETR", "/f", progress);
    for (int k = 0; k < 10; ++k) progress->bytes += 1000;
    s->transfer_ended();
  }
  done = true;
  reader.join();
  EXPECT_EQ(registry.size(), 0U);
}

}  // namespace
}  // namespace ftpsd::session
