#include "session/transfer_slot.hpp"

#include <gtest/gtest.h>

namespace ftpsd::session {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

// The coroutines below are named lambdas that outlive their run: a temporary lambda would die while
// its coroutine still uses its captures.

// A connected pair of loopback sockets: the server's side as a tls::Stream (plain), the client's as
// a socket.
struct Connection {
  explicit Connection(asio::io_context& io) : client(io) {
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    client.connect(acceptor.local_endpoint());
    server.emplace(acceptor.accept());
  }
  tcp::socket client;
  std::optional<tls::Stream> server;
};

TEST(TransferSlot, WaitersWakeAtTheFirstReplyAndAtTheEnd) {
  asio::io_context io;
  TransferSlot slot(io.get_executor(), {});
  std::vector<std::string> events;
  asio::steady_timer finish(io, asio::steady_timer::time_point::max());
  auto transfer = [&]() -> Task<void> {
    events.emplace_back("transfer started");
    slot.replied_first();
    co_await finish.async_wait(kTuple);
    events.emplace_back("transfer ended");
  };
  slot.begin(transfer());
  EXPECT_TRUE(slot.active());
  EXPECT_FALSE(slot.replied());
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await slot.wait_reply();
        events.emplace_back("first reply seen");
        finish.cancel();
        co_await slot.wait();
        events.emplace_back("end seen");
        co_await slot.wait();  // nothing runs: at once
        events.emplace_back("idle");
      },
      asio::detached);
  io.run_for(10s);
  EXPECT_EQ(events, (std::vector<std::string>{"transfer started", "first reply seen", "transfer ended",
                                              "end seen", "idle"}));
  EXPECT_FALSE(slot.active());
  EXPECT_FALSE(slot.aborted());
}

TEST(TransferSlot, AbortBeforeTheDataConnectionStopsThePendingWait) {
  asio::io_context io;
  asio::steady_timer accept(io, asio::steady_timer::time_point::max());  // a pending accept, say
  bool pending_stopped = false;
  TransferSlot slot(io.get_executor(), [&] {
    pending_stopped = true;
    accept.cancel();
  });
  slot.abort();  // nothing runs: nothing happens
  EXPECT_FALSE(pending_stopped);
  EXPECT_FALSE(slot.aborted());
  bool waited = false;
  auto transfer = [&]() -> Task<void> {
    co_await accept.async_wait(kTuple);
    waited = true;
  };
  slot.begin(transfer());
  asio::post(io, [&] { slot.abort(); });
  io.run_for(10s);
  EXPECT_TRUE(waited);
  EXPECT_TRUE(pending_stopped);
  EXPECT_TRUE(slot.aborted());
  EXPECT_FALSE(slot.active());
}

TEST(TransferSlot, AbortClosesTheRunningDataConnection) {
  asio::io_context io;
  Connection c(io);
  TransferSlot slot(io.get_executor(), {});
  std::error_code read_error;
  auto transfer = [&]() -> Task<void> {
    slot.connected(*c.server);
    auto& progress = slot.start("RETR /f", 10, 60s);
    EXPECT_EQ(progress.description, "RETR /f");
    std::array<char, 16> buf{};
    auto [ec, n] = co_await c.server->read_some(asio::buffer(buf));  // the client sends nothing
    read_error = ec;
  };
  slot.begin(transfer());
  asio::post(io, [&] {
    ASSERT_NE(slot.progress(), nullptr);
    EXPECT_EQ(slot.progress()->total.load(), 10U);
    slot.abort();
  });
  io.run_for(10s);
  EXPECT_TRUE(read_error);
  EXPECT_TRUE(slot.aborted());
  EXPECT_FALSE(slot.stalled());
  EXPECT_FALSE(slot.active());
  EXPECT_EQ(slot.progress(), nullptr);
}

// Between the 150 and the first byte (the TLS handshake of PROT P) ABOR closes the connection too.
TEST(TransferSlot, AbortClosesAConnectionWhoseBytesHaveNotStarted) {
  asio::io_context io;
  Connection c(io);
  TransferSlot slot(io.get_executor(), {});
  std::error_code read_error;
  auto transfer = [&]() -> Task<void> {
    slot.connected(*c.server);
    std::array<char, 16> buf{};
    auto [ec, n] = co_await c.server->read_some(asio::buffer(buf));  // a handshake that never comes
    read_error = ec;
  };
  slot.begin(transfer());
  asio::post(io, [&] {
    EXPECT_EQ(slot.progress(), nullptr);  // nothing counted yet
    slot.abort();
  });
  io.run_for(10s);
  EXPECT_TRUE(read_error);
  EXPECT_TRUE(slot.aborted());
}

// An ABOR that came while the data connection was being opened (the 150 still on its way) closes the
// connection as soon as the transfer has it: the transfer does not run first.
TEST(TransferSlot, AnAbortBeforeTheConnectionClosesItAtOnce) {
  asio::io_context io;
  Connection c(io);
  asio::steady_timer opening(io, asio::steady_timer::time_point::max());
  TransferSlot slot(io.get_executor(), {});
  bool was_open = false;
  bool open_after = true;
  auto transfer = [&]() -> Task<void> {
    co_await opening.async_wait(kTuple);  // the 150 is being written
    was_open = c.server->socket().is_open();
    slot.connected(*c.server);
    open_after = c.server->socket().is_open();
  };
  slot.begin(transfer());
  asio::post(io, [&] {
    slot.abort();
    opening.cancel();
  });
  io.run_for(10s);
  EXPECT_TRUE(was_open);
  EXPECT_FALSE(open_after);
  EXPECT_TRUE(slot.aborted());
}

// After stop() (an upload's data has all come; its commit runs) the connection is the transfer's own:
// no stall, no abort closes it; STAT still sees the progress until the transfer ends; aborted() is
// what the commit reads.
TEST(TransferSlot, AfterStopTheConnectionIsLeftAloneAndTheProgressStays) {
  asio::io_context io;
  Connection c(io);
  TransferSlot slot(io.get_executor(), {});
  asio::steady_timer committing(io, asio::steady_timer::time_point::max());
  bool open_at_the_end = false;
  bool aborted_seen = false;
  auto transfer = [&]() -> Task<void> {
    slot.connected(*c.server);
    slot.start("STOR /f", 0, 30ms).bytes += 7;
    slot.stop();
    asio::steady_timer t(io, 200ms);  // several stall timeouts without a byte
    co_await t.async_wait(kTuple);
    asio::post(io, [&] {  // an ABOR during the commit
      ASSERT_NE(slot.progress(), nullptr);
      EXPECT_EQ(slot.progress()->bytes.load(), 7U);
      slot.abort();
      committing.cancel();
    });
    co_await committing.async_wait(kTuple);
    aborted_seen = slot.aborted();
    open_at_the_end = c.server->socket().is_open();
  };
  slot.begin(transfer());
  io.run_for(10s);
  EXPECT_FALSE(slot.stalled());
  EXPECT_TRUE(aborted_seen);
  EXPECT_TRUE(open_at_the_end);
  EXPECT_EQ(slot.progress(), nullptr);
}

TEST(TransferSlot, ADataConnectionWhereNothingMovesIsClosedAsStalled) {
  asio::io_context io;
  Connection c(io);
  TransferSlot slot(io.get_executor(), {});
  std::error_code read_error;
  auto transfer = [&]() -> Task<void> {
    slot.connected(*c.server);
    slot.start("STOR /f", 0, 50ms);
    std::array<char, 16> buf{};
    auto [ec, n] = co_await c.server->read_some(asio::buffer(buf));
    read_error = ec;
  };
  slot.begin(transfer());
  io.run_for(10s);
  EXPECT_TRUE(read_error);
  EXPECT_TRUE(slot.stalled());
  EXPECT_FALSE(slot.aborted());
}

// Bytes that keep moving keep the connection open, however long the transfer takes.
TEST(TransferSlot, MovingBytesAreNoStall) {
  asio::io_context io;
  Connection c(io);
  TransferSlot slot(io.get_executor(), {});
  int ticks = 0;
  auto transfer = [&]() -> Task<void> {
    slot.connected(*c.server);
    auto& progress = slot.start("RETR /f", 0, 40ms);
    asio::steady_timer tick(io);
    for (; ticks < 30; ++ticks) {  // 300 ms: more than seven stall timeouts
      tick.expires_after(10ms);
      co_await tick.async_wait(kTuple);
      progress.bytes += 100;
    }
  };
  slot.begin(transfer());
  io.run_for(10s);
  EXPECT_EQ(ticks, 30);
  EXPECT_FALSE(slot.stalled());
  EXPECT_FALSE(slot.active());
}

// The registry keeps reading a transfer's progress after the slot has moved on.
TEST(TransferSlot, ProgressOutlivesTheTransfer) {
  asio::io_context io;
  Connection c(io);
  TransferSlot slot(io.get_executor(), {});
  std::shared_ptr<const TransferProgress> seen;
  auto transfer = [&]() -> Task<void> {
    slot.connected(*c.server);
    slot.start("RETR /f", 5, 60s).bytes += 5;
    seen = slot.progress();
    co_return;
  };
  slot.begin(transfer());
  io.run_for(10s);
  EXPECT_EQ(slot.progress(), nullptr);
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen->bytes.load(), 5U);
}

}  // namespace
}  // namespace ftpsd::session
