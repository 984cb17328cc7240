// DataChannel on loopback: waiting for an exhausted passive range, and the same-peer check.
#include "session/data_channel.hpp"

#include <gtest/gtest.h>

using namespace ftpsd;
using namespace std::chrono_literals;

namespace {

const auto kLoopback = asio::ip::make_address("127.0.0.1");

// A one-port range on a port that is free now (fixed ports collide with other programs' ports).
config::PortRange free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io, {kLoopback, 0});
  const auto port = probe.local_endpoint().port();
  return {port, port};
}

template <class T>
T run(asio::io_context& io, Task<T> task) {
  // co_spawn wants default-constructible results; ours travel through a local.
  std::optional<T> out;
  auto wrapper = [](Task<T> t, std::optional<T>& o) -> Task<void> { o.emplace(co_await std::move(t)); };
  asio::co_spawn(io, wrapper(std::move(task), out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  io.restart();
  return std::move(*out);
}

}  // namespace

TEST(DataChannel, RefusesAtOnceWhenTheRangeIsExhausted) {
  asio::io_context io;
  net::PassivePortPool pool(free_port());
  session::DataChannel a(io.get_executor(), pool, kLoopback, kLoopback);
  session::DataChannel b(io.get_executor(), pool, kLoopback, kLoopback);
  ASSERT_TRUE(run(io, a.listen_passive()));
  auto r = run(io, b.listen_passive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), session::DataError::kNoPassivePort);
  EXPECT_EQ(pool.exhaustions(), 1u);
}

TEST(DataChannel, WaitsForAPortWhenAskedToAndGetsItWhenReleased) {
  asio::io_context io;
  const auto range = free_port();
  net::PassivePortPool pool(range);
  session::DataChannelOptions wait{.wait_when_exhausted = true, .exhausted_wait = 10s};
  session::DataChannel a(io.get_executor(), pool, kLoopback, kLoopback);
  session::DataChannel b(io.get_executor(), pool, kLoopback, kLoopback, wait);
  ASSERT_TRUE(run(io, a.listen_passive()));
  asio::steady_timer release(io, 200ms);
  release.async_wait([&](std::error_code) { a.reset(); });
  const auto start = std::chrono::steady_clock::now();
  auto r = run(io, b.listen_passive());
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, range.first);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // woken by the release, not the bound
}

TEST(DataChannel, WaitIsBounded) {
  asio::io_context io;
  net::PassivePortPool pool(free_port());
  session::DataChannel a(io.get_executor(), pool, kLoopback, kLoopback);
  session::DataChannel b(io.get_executor(), pool, kLoopback, kLoopback,
                         {.wait_when_exhausted = true, .exhausted_wait = 150ms});
  ASSERT_TRUE(run(io, a.listen_passive()));
  auto r = run(io, b.listen_passive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), session::DataError::kNoPassivePort);
}

namespace {

// Connects from 127.0.0.1 to the passive port while the channel expects the control peer `peer`.
// Returns the error, or kAborted standing for "accepted" (the stream must not outlive `io`).
session::DataError accept_from_loopback(asio::ip::address peer, bool require_same_peer) {
  asio::io_context io;
  net::PassivePortPool pool(free_port());
  session::DataChannel ch(io.get_executor(), pool, peer, kLoopback, {.require_same_peer = require_same_peer});
  auto port = run(io, ch.listen_passive());
  EXPECT_TRUE(port);
  asio::ip::tcp::socket client(io);
  client.async_connect({kLoopback, *port}, [](std::error_code) {});
  auto r = run(io, ch.open(1s));
  return r ? session::DataError::kAborted : r.error();
}

}  // namespace

TEST(DataChannel, SamePeerCheck) {
  constexpr auto kAccepted = session::DataError::kAborted;
  // SECURITY: a stranger (here 127.0.0.1 while the client is 127.0.0.2) never gets the data.
  EXPECT_EQ(accept_from_loopback(asio::ip::make_address("127.0.0.2"), true), session::DataError::kTimeout);
  EXPECT_EQ(accept_from_loopback(asio::ip::make_address("127.0.0.2"), false), kAccepted);
  EXPECT_EQ(accept_from_loopback(kLoopback, true), kAccepted);
}

TEST(DataChannel, FailuresAreExplainedWithAFix) {
  const auto t = session::explain(session::DataError::kTimeout, true);
  EXPECT_NE(t.cause.find("nobody connected"), std::string::npos);
  EXPECT_NE(t.fix.find("ftpsd firewall"), std::string::npos);
  const auto a = session::explain(session::DataError::kTimeout, false);
  EXPECT_NE(a.fix.find("passive mode"), std::string::npos);
  EXPECT_NE(session::explain(session::DataError::kNoPassivePort, true).fix.find("on_exhausted"),
            std::string::npos);
}

TEST(DataChannel, ATimeoutAfterARefusedPeerIsExplainedByTheRefusal) {
  asio::io_context io;
  net::PassivePortPool pool(free_port());
  const auto client = asio::ip::make_address("127.0.0.2");
  session::DataChannel ch(io.get_executor(), pool, client, kLoopback);
  auto port = run(io, ch.listen_passive());
  ASSERT_TRUE(port);
  asio::ip::tcp::socket stranger(io);  // from 127.0.0.1: not the client
  stranger.async_connect({kLoopback, *port}, [](std::error_code) {});
  auto r = run(io, ch.open(300ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), session::DataError::kTimeout);
  const auto& refused = ch.refused_by_last_open();
  EXPECT_EQ(refused.count, 1u);
  ASSERT_TRUE(refused.last);
  EXPECT_EQ(*refused.last, kLoopback);
  const auto why = session::explain(r.error(), true, refused);
  EXPECT_NE(
      why.cause.find("refused a connection from 127.0.0.1 (the control connection comes from 127.0.0.2)"),
      std::string::npos)
      << why.cause;
  EXPECT_EQ(why.cause.find("nobody connected"), std::string::npos);
  EXPECT_NE(why.fix.find("passive.require_same_peer"), std::string::npos);
  EXPECT_EQ(why.fix.find("firewall"), std::string::npos);

  // The next open() starts afresh: nobody connects, the usual explanation.
  ASSERT_TRUE(run(io, ch.listen_passive()));
  r = run(io, ch.open(100ms));
  ASSERT_FALSE(r);
  EXPECT_EQ(ch.refused_by_last_open().count, 0u);
  EXPECT_NE(session::explain(r.error(), true, ch.refused_by_last_open()).cause.find("nobody connected"),
            std::string::npos);
  // Several, the last with a PROXY header that could not be read.
  const auto several = session::explain(session::DataError::kTimeout, true,
                                        {.count = 3, .last = std::nullopt, .control_peer = client});
  EXPECT_NE(several.cause.find("refused 3 connections, the last with an unreadable PROXY header"),
            std::string::npos)
      << several.cause;
}
