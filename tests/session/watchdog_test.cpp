// The watchdog on a manual clock: the login and idle timeouts (never during a transfer, never moved by
// bytes that are not a whole command), and the graceful stop (idle sessions at once, a running
// transfer until it ends or until the stop deadline). No test waits: the clock moves when told.
#include <gtest/gtest.h>

#include "harness.hpp"

using namespace ftpsd::test;
using namespace std::chrono_literals;

namespace {

// Short login and idle timeouts, to be told apart.
HarnessOptions timeouts() {
  return {.server = "login_timeout = \"30s\"\nidle_timeout = \"60s\""};
}

}  // namespace

TEST(Watchdog, LoginTimeoutEndsASessionThatDoesNotLogIn) {
  SessionHarness h(timeouts());
  auto c = h.connect();
  h.advance(29s);
  EXPECT_TRUE(c->silent());
  EXPECT_FALSE(c->closed());
  h.advance(2s);
  EXPECT_EQ(c->reply(), "421 Login timeout: closing control connection.\r\n");
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(c->end().server_gone());
  EXPECT_TRUE(h.logged("login timeout"));
}

TEST(Watchdog, CommandsBeforeLoginDoNotExtendTheLoginTimeout) {
  SessionHarness h(timeouts());
  auto c = h.connect();
  for (int i = 0; i < 5; ++i) {
    h.advance(5s);
    c->cmd("NOOP", 200);
  }
  c->cmd("USER alice", 331);
  h.advance(6s);  // 31 s after the connection
  EXPECT_EQ(c->reply(), "421 Login timeout: closing control connection.\r\n");
  EXPECT_TRUE(c->closed());
}

TEST(Watchdog, DribblingACommandNeverCompletesTheLogin) {
  // A client that sends a command line one byte a second (slowloris) holds its session only until the
  // login timeout; another client is served meanwhile.
  SessionHarness h(timeouts());
  auto slow = h.connect();
  const auto connected = h.clock().now();
  const std::string line = "USER alice-and-a-line-that-never-ends-with-CRLF";
  for (std::size_t i = 0; i < line.size() && !slow->end().server_closed(); ++i) {
    slow->send_raw(line.substr(i, 1));
    if (i == 2) {
      auto other = h.connect();
      other->login();
      other->cmd("PWD", 257);
    }
    h.advance(1s);
  }
  const auto closed_after = h.clock().now() - connected;
  EXPECT_GE(closed_after, 30s);
  EXPECT_LE(closed_after, 31s);
  EXPECT_EQ(slow->reply(), "421 Login timeout: closing control connection.\r\n");
  EXPECT_TRUE(slow->closed());
  EXPECT_TRUE(slow->silent()) << "nothing but the 421";
}

TEST(Watchdog, IdleTimeoutAfterLoginAndCommandsKeepASessionAlive) {
  SessionHarness h(timeouts());
  auto c = h.connect();
  c->login();
  h.advance(59s);
  EXPECT_TRUE(c->silent());
  // Each command moves the deadline: 4 minutes of commands 45 s apart.
  for (int i = 0; i < 6; ++i) {
    c->cmd("NOOP", 200);
    h.advance(45s);
    EXPECT_FALSE(c->closed()) << i;
  }
  h.advance(16s);
  EXPECT_EQ(c->reply(), "421 Idle timeout: closing control connection.\r\n");
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(h.logged("idle timeout"));
}

TEST(Watchdog, NoIdleTimeoutDuringATransfer) {
  SessionHarness h(timeouts());
  const auto payload = pattern(kHeldBack);
  h.write_file("f.bin", payload);
  auto c = h.connect();
  c->login();
  auto data = c->pasv(kSmallWindow);
  c->cmd("RETR f.bin", 150);
  h.advance(10min);  // the data connection is full and nobody reads: the transfer still runs
  EXPECT_TRUE(c->silent());
  EXPECT_FALSE(c->closed());
  EXPECT_EQ(h.read_all(data), payload);
  c->expect(226);
  // The idle time counts from the end of the transfer, not from the RETR ten minutes ago.
  h.advance(59s);
  EXPECT_FALSE(c->closed());
  c->cmd("NOOP", 200);
  h.advance(61s);
  EXPECT_EQ(c->reply(), "421 Idle timeout: closing control connection.\r\n");
}

TEST(Watchdog, NoIdleTimeoutWhileATransferWaitsForItsDataConnection) {
  SessionHarness h(timeouts());
  h.write_file("f.txt", "x");
  auto c = h.connect();
  c->login();
  c->cmd("PASV", 227);
  c->send("RETR f.txt");
  h.advance(5min);
  EXPECT_TRUE(c->silent());
  EXPECT_FALSE(c->closed());
  c->send("ABOR");
  c->expect(426);
  c->expect(226);
}

TEST(Watchdog, GracefulStopEndsIdleSessionsAtOnce) {
  SessionHarness h(timeouts());
  auto before_login = h.connect();
  auto logged_in = h.connect();
  logged_in->login();
  h.stop(30s);
  for (auto* c : {before_login.get(), logged_in.get()}) {
    EXPECT_EQ(c->reply(), "421 Server shutting down, closing control connection.\r\n");
    EXPECT_TRUE(c->closed());
  }
}

TEST(Watchdog, GracefulStopLetsARunningTransferFinish) {
  SessionHarness h(timeouts());
  const auto payload = pattern(kHeldBack);
  h.write_file("f.bin", payload);
  auto busy = h.connect();
  busy->login();
  auto data = busy->pasv(kSmallWindow);
  busy->cmd("RETR f.bin", 150);
  auto idle = h.connect();
  h.stop(30s);
  EXPECT_EQ(idle->reply(), "421 Server shutting down, closing control connection.\r\n");
  h.advance(10s);
  EXPECT_TRUE(busy->silent()) << "the transfer goes on until the stop deadline";
  EXPECT_EQ(h.read_all(data), payload);
  EXPECT_EQ(busy->reply(), "226 Transfer complete.\r\n");
  h.advance(1s);  // while stopping, the watchdog looks again every second
  EXPECT_EQ(busy->reply(), "421 Server shutting down, closing control connection.\r\n");
  EXPECT_TRUE(busy->closed());
}

TEST(Watchdog, GracefulStopCutsATransferAtTheStopDeadline) {
  SessionHarness h(timeouts());
  h.write_sparse("big.bin", 1ULL << 30);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("RETR big.bin", 150);  // never read
  h.stop(30s);
  h.advance(29s);
  EXPECT_TRUE(c->silent());
  EXPECT_FALSE(c->closed());
  h.advance(2s);
  EXPECT_EQ(c->reply(), "426 Connection closed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "421 Server shutting down, closing control connection.\r\n");
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(h.logged("server stopping: transfer aborted at server.shutdown_timeout"));
}

TEST(Watchdog, AClientThatDoesNotReadItsRepliesIsDisconnected) {
  // A download nobody reads keeps the session busy (never idle); STATs whose replies the client does
  // not read block the server's writes. A reply that has waited server.data_timeout ends the session.
  SessionHarness h({.server = "data_timeout = \"20s\"\nidle_timeout = \"30s\""});
  h.write_sparse("big.bin", 1ULL << 30);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("RETR big.bin", 150);  // never read
  c->end().limit_window(4096);  // the client reads no more replies than this
  for (int i = 0; i < 100; ++i) c->send("STAT");
  h.run_until_idle();
  ASSERT_EQ(c->end().pending().size(), 4096u) << "the server's reply waits for the client";
  // A client that reads, late, is not one that never reads: the wait starts again.
  h.advance(15s);
  c->end().take();
  h.run_until_idle();
  ASSERT_EQ(c->end().pending().size(), 4096u);
  h.advance(19s);
  EXPECT_FALSE(c->end().server_gone());
  EXPECT_FALSE(h.logged("has not read its replies"));
  h.advance(2s);
  EXPECT_TRUE(c->end().server_gone());
  EXPECT_TRUE(h.logged("the client has not read its replies for 20s: closing"));
  EXPECT_TRUE(h.logged("result=426")) << "the download was aborted";
}
