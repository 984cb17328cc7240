// The registry of live sessions as the sessions keep it (Services::registry): what a Manager lists (the
// client, the user, the idle time on the session's clock, the running transfer and its bytes), and how
// it ends a session from another thread (421, after the 426 of a transfer it aborts). An entry goes
// with its session.
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"

using namespace ftpsd::test;
using namespace std::chrono_literals;
using ftpsd::session::SessionView;

namespace {

constexpr std::uint64_t kGiB = 1ULL << 30;

// The one session the registry lists.
SessionView only_session(SessionHarness& h) {
  auto all = h.services().registry.list();
  EXPECT_EQ(all.size(), 1U);
  return all.empty() ? SessionView{} : all.front();
}

// SessionRegistry::end, called from a thread of its own as the Manager would.
bool end_from_another_thread(SessionHarness& h, std::uint64_t id) {
  bool ended = false;
  std::thread manager([&] { ended = h.services().registry.end(id); });
  manager.join();
  return ended;
}

}  // namespace

TEST(Registry, ListsTheSessionWithItsClientUserAndIdleTime) {
  SessionHarness h;
  auto c = h.connect();
  const auto v = only_session(h);
  EXPECT_NE(v.id, 0U);
  EXPECT_EQ(v.client, "127.0.0.1");
  EXPECT_EQ(v.listener, "127.0.0.1:0");  // the harness's listener, as configured
  EXPECT_EQ(v.domain, "default");
  EXPECT_EQ(v.user, "");
  EXPECT_EQ(v.tls, "");
  EXPECT_FALSE(v.transfer.has_value());
  c->login();
  EXPECT_EQ(only_session(h).user, "alice");
  h.advance(42s);
  EXPECT_EQ(only_session(h).idle, 42s);
  c->cmd("NOOP", 200);
  EXPECT_EQ(only_session(h).idle, 0s);
  h.advance(5s);
  EXPECT_EQ(only_session(h).idle, 5s);
  c->cmd("REIN", 220);
  EXPECT_EQ(only_session(h).user, "");
  EXPECT_EQ(only_session(h).id, v.id);
}

TEST(Registry, TheClientIsTheAddressOfThePROXYHeader) {
  SessionHarness h;
  auto c = h.connect(true, asio::ip::make_address("203.0.113.9"));
  EXPECT_EQ(only_session(h).client, "203.0.113.9");
}

TEST(Registry, ARunningTransferShowsItsCommandPathAndGrowingBytes) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("RETR big.bin", 150);
  h.read_n(data, kMiB);
  const auto v = only_session(h);
  ASSERT_TRUE(v.transfer.has_value());
  EXPECT_EQ(v.transfer->command, "RETR");
  EXPECT_EQ(v.transfer->path, "/big.bin");
  EXPECT_EQ(v.transfer->total, kGiB);
  EXPECT_GE(v.transfer->bytes, kMiB);
  EXPECT_LT(v.transfer->bytes, kGiB);
  // Read well past what the sockets may hold (the count runs ahead of the client by that much).
  h.read_n(data, 16 * kMiB);
  const auto later = only_session(h);
  ASSERT_TRUE(later.transfer.has_value());
  EXPECT_GE(later.transfer->bytes, v.transfer->bytes + 4 * kMiB);
  EXPECT_GE(later.transfer->bytes, 17 * kMiB);
  c->send("ABOR");
  c->expect(426);
  c->expect(226);
  EXPECT_FALSE(only_session(h).transfer.has_value());
  // An upload: the bytes received so far, no total.
  auto up = c->pasv();
  c->cmd("STOR up.bin", 150);
  h.write_all(up, pattern(300'000));
  h.run_until_idle();  // the server has read what was sent
  const auto upload = only_session(h);
  ASSERT_TRUE(upload.transfer.has_value());
  EXPECT_EQ(upload.transfer->command, "STOR");
  EXPECT_EQ(upload.transfer->path, "/up.bin");
  EXPECT_EQ(upload.transfer->bytes, 300'000U);
  EXPECT_EQ(upload.transfer->total, 0U);
  up.close();
  c->expect(226);
  EXPECT_FALSE(only_session(h).transfer.has_value());
}

TEST(Registry, EndFromAnotherThreadGives421AndTheEntryGoes) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  auto other = h.connect();
  const auto all = h.services().registry.list();
  ASSERT_EQ(all.size(), 2U);
  const auto id = all.front().id;  // c's: ids grow
  EXPECT_TRUE(end_from_another_thread(h, id));
  EXPECT_EQ(c->reply(), "421 Session ended by the administrator.\r\n");
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(c->end().server_gone());
  EXPECT_TRUE(h.logged("session ended by the administrator"));
  EXPECT_FALSE(h.services().registry.find(id).has_value());
  EXPECT_FALSE(end_from_another_thread(h, id)) << "a session that has ended";
  EXPECT_NE(only_session(h).id, id);
  other->cmd("NOOP", 200);  // the other session goes on
}

TEST(Registry, EndDuringATransferAbortsItWith426Then421) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  auto c = h.connect();
  c->login();
  auto data = c->pasv();
  c->cmd("RETR big.bin", 150);
  h.read_n(data, kMiB);
  EXPECT_TRUE(end_from_another_thread(h, only_session(h).id));
  EXPECT_EQ(c->reply(), "426 Connection closed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "421 Session ended by the administrator.\r\n");
  EXPECT_TRUE(c->closed());
  EXPECT_LT(h.read_all(data).size(), kGiB - kMiB) << "the server closed the data connection";
  EXPECT_TRUE(h.logged("result=426"));
  EXPECT_EQ(h.services().registry.size(), 0U);
}

TEST(Registry, EndWhileATransferWaitsForItsDataConnection) {
  SessionHarness h;
  h.write_sparse("big.bin", kGiB);
  auto c = h.connect();
  c->login();
  c->cmd("PASV", 227);
  c->send("RETR big.bin");  // nobody connects to the passive port
  EXPECT_TRUE(c->silent());
  EXPECT_TRUE(end_from_another_thread(h, only_session(h).id));
  EXPECT_EQ(c->reply(), "426 Data connection closed; transfer aborted.\r\n");
  EXPECT_EQ(c->reply(), "421 Session ended by the administrator.\r\n");
  EXPECT_TRUE(c->closed());
}

TEST(Registry, EndOfAnUnknownIdIsFalseAndAnEntryGoesWithItsSession) {
  SessionHarness h;
  EXPECT_FALSE(h.services().registry.end(12345));
  auto c = h.connect();
  const auto id = only_session(h).id;
  EXPECT_FALSE(h.services().registry.end(id + 1));
  c->cmd("QUIT", 221);
  EXPECT_TRUE(c->closed());
  EXPECT_EQ(h.services().registry.size(), 0U);
  EXPECT_FALSE(h.services().registry.end(id));
  auto gone = h.connect();
  EXPECT_EQ(h.services().registry.size(), 1U);
  gone->close();
  h.run_until_idle();
  EXPECT_TRUE(gone->end().server_gone());
  EXPECT_EQ(h.services().registry.size(), 0U) << "a client that just went away";
}

TEST(Registry, AnEndRequestThatArrivesWhenTheSessionHasGoneDoesNothing) {
  // The request is posted to the session's loop while the session is still registered, and the
  // session ends on its own (QUIT) after 0, 1, 2, ... more steps of the loop: the request runs in the
  // middle of the session's end or after it (then the session is gone, and the request must not touch
  // it: the ASan build checks).
  SessionHarness h;
  int requested = 0;
  for (int steps = 0; steps < 40; ++steps) {
    auto c = h.connect();
    const auto id = only_session(h).id;
    c->send("QUIT");
    for (int i = 0; i < steps; ++i) {
      if (h.io().stopped()) h.io().restart();
      h.io().poll_one();
    }
    if (h.services().registry.end(id)) ++requested;  // false once the session has gone
    const auto reply = c->reply();
    EXPECT_TRUE(reply == "221 Goodbye.\r\n" || reply == "421 Session ended by the administrator.\r\n")
        << steps << ": " << reply;
    EXPECT_TRUE(c->closed()) << steps;
    EXPECT_TRUE(c->end().server_gone()) << steps;
    EXPECT_TRUE(c->silent()) << steps << ": one reply";
    EXPECT_EQ(h.services().registry.size(), 0U) << steps;
  }
  EXPECT_GT(requested, 0) << "no request was made while the session was registered";
}
