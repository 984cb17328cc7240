#include "session/abuse.hpp"

#include <gtest/gtest.h>

using namespace ftpsd;
using namespace std::chrono_literals;

TEST(LoginDelay, DoublesUpToTheCap) {
  config::BansConfig cfg{.login_delay = 1s, .max_login_delay = 8s};
  EXPECT_EQ(session::login_delay(cfg, 0), 0s);
  EXPECT_EQ(session::login_delay(cfg, 1), 1s);
  EXPECT_EQ(session::login_delay(cfg, 2), 2s);
  EXPECT_EQ(session::login_delay(cfg, 3), 4s);
  EXPECT_EQ(session::login_delay(cfg, 4), 8s);
  EXPECT_EQ(session::login_delay(cfg, 1000), 8s);
  cfg.login_delay = 0s;
  EXPECT_EQ(session::login_delay(cfg, 5), 0s);
}

TEST(LogSafe, KeepsLogLinesParseable) {
  EXPECT_EQ(session::log_safe("alice"), "alice");
  EXPECT_EQ(session::log_safe("a\"b\\c d"), "a?b?c d");
  EXPECT_EQ(session::log_safe("\xc3\xa9"), "??");
  EXPECT_EQ(session::log_safe(std::string(100, 'x')).size(), 64u);
}
