#pragma once
// Which TLS rules apply to a session: the one place that combines the global policy with per-user
// overrides. Pure.
#include <optional>
#include <string>

#include "auth/user.hpp"
#include "config/config.hpp"
#include "inet/ip_network.hpp"

namespace ftpsd::session {

// tls.required for a user (the per-user tls_required wins). `user` may be unknown (nullptr).
[[nodiscard]] config::TlsRequired effective_tls_required(const config::Config& cfg, const auth::User* user);
// The setting effective_tls_required() takes its value from, for the log (replies name no settings):
// `tls.required = "all"`, or `tls_required = "all" (users file, user bob)`.
[[nodiscard]] std::string tls_required_setting(const config::Config& cfg, const auth::User* user);
// tls.session_reuse for a user from a client address: the per-user key wins, then the first
// [[tls.session_reuse_overrides]] entry whose networks contain the client, then tls.session_reuse.
[[nodiscard]] config::SessionReuse effective_session_reuse(const config::Config& cfg, const auth::User* user,
                                                           const asio::ip::address& client);
// The setting effective_session_reuse() takes its value from, for the log: `tls.session_reuse =
// "require"`, `tls_session_reuse = "off" (users file, user bob)`, or `session_reuse = "report"
// ([[tls.session_reuse_overrides]] for 10.0.0.0/8)`.
[[nodiscard]] std::string session_reuse_setting(const config::Config& cfg, const auth::User* user,
                                                const asio::ip::address& client);

}  // namespace ftpsd::session
