#include "session/security_policy.hpp"

#include <gtest/gtest.h>

using namespace ftpsd;

TEST(SecurityPolicy, SessionReusePrecedence) {
  config::Config cfg;
  cfg.tls.session_reuse = config::SessionReuse::kRequire;
  cfg.tls.session_reuse_overrides.push_back(
      {.networks = {*inet::IpNetwork::parse("10.0.0.0/8")}, .session_reuse = config::SessionReuse::kReport});
  cfg.tls.session_reuse_overrides.push_back(
      {.networks = {*inet::IpNetwork::parse("10.1.0.0/16")}, .session_reuse = config::SessionReuse::kOff});
  const auto lan = asio::ip::make_address("10.1.2.3");
  const auto internet = asio::ip::make_address("198.51.100.7");
  EXPECT_EQ(session::effective_session_reuse(cfg, nullptr, lan),
            config::SessionReuse::kReport);  // first match
  EXPECT_EQ(session::effective_session_reuse(cfg, nullptr, internet), config::SessionReuse::kRequire);
  EXPECT_EQ(session::effective_session_reuse(cfg, nullptr, asio::ip::make_address("::ffff:10.9.9.9")),
            config::SessionReuse::kReport);  // IPv4-mapped
  auth::User u;
  u.tls_session_reuse = config::SessionReuse::kOff;
  EXPECT_EQ(session::effective_session_reuse(cfg, &u, internet),
            config::SessionReuse::kOff);  // the user wins
}

TEST(SecurityPolicy, TlsRequiredPerUser) {
  config::Config cfg;
  cfg.tls.required = config::TlsRequired::kLogin;
  EXPECT_EQ(session::effective_tls_required(cfg, nullptr), config::TlsRequired::kLogin);
  auth::User u;
  u.tls_required = config::TlsRequired::kAll;
  EXPECT_EQ(session::effective_tls_required(cfg, &u), config::TlsRequired::kAll);
}

// The log names the setting a TLS rule comes from (replies name none).
TEST(SecurityPolicy, SettingsNamedForTheLog) {
  config::Config cfg;
  cfg.tls.required = config::TlsRequired::kLogin;
  cfg.tls.session_reuse = config::SessionReuse::kRequire;
  cfg.tls.session_reuse_overrides.push_back(
      {.networks = {*inet::IpNetwork::parse("10.0.0.0/8"), *inet::IpNetwork::parse("192.168.0.0/16")},
       .session_reuse = config::SessionReuse::kOff});
  EXPECT_EQ(session::tls_required_setting(cfg, nullptr), "tls.required = \"login\"");
  auth::User bob;
  bob.name = "bob";
  EXPECT_EQ(session::tls_required_setting(cfg, &bob), "tls.required = \"login\"");
  bob.tls_required = config::TlsRequired::kAll;
  EXPECT_EQ(session::tls_required_setting(cfg, &bob), "tls_required = \"all\" (users file, user bob)");

  const auto lan = asio::ip::make_address("10.1.2.3");
  const auto internet = asio::ip::make_address("198.51.100.7");
  EXPECT_EQ(session::session_reuse_setting(cfg, nullptr, internet), "tls.session_reuse = \"require\"");
  EXPECT_EQ(session::session_reuse_setting(cfg, nullptr, lan),
            "session_reuse = \"off\" ([[tls.session_reuse_overrides]] for 10.0.0.0/8, 192.168.0.0/16)");
  bob.tls_session_reuse = config::SessionReuse::kReport;
  EXPECT_EQ(session::session_reuse_setting(cfg, &bob, lan),
            "tls_session_reuse = \"report\" (users file, user bob)");
}
