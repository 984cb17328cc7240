#pragma once
// Which TLS rules apply to a session: the one place that combines the global policy with per-user
// overrides. Pure.
#include <optional>

#include "auth/user.hpp"
#include "config/config.hpp"
#include "inet/ip_network.hpp"

namespace ftpsd::session {

// tls.required for a user (the per-user tls_required wins). `user` may be unknown (nullptr).
[[nodiscard]] config::TlsRequired effective_tls_required(const config::Config& cfg, const auth::User* user);
// tls.session_reuse for a user from a client address: the per-user key wins, then the first
// [[tls.session_reuse_overrides]] entry whose networks contain the client, then tls.session_reuse.
[[nodiscard]] config::SessionReuse effective_session_reuse(const config::Config& cfg, const auth::User* user,
                                                           const asio::ip::address& client);

}  // namespace ftpsd::session
