#pragma once
// Which TLS rules apply to a session: the one place that combines the global policy with per-user
// overrides. Pure.
#include <optional>

#include "auth/user.hpp"
#include "config/config.hpp"

namespace ftpsd::session {

// tls.required for a user (the per-user tls_required wins). `user` may be unknown (nullopt).
[[nodiscard]] config::TlsRequired effective_tls_required(const config::Config& cfg,
                                                         const std::optional<auth::User>& user);
// tls.session_reuse for a user.
[[nodiscard]] config::SessionReuse effective_session_reuse(const config::Config& cfg,
                                                           const std::optional<auth::User>& user);
[[nodiscard]] std::string_view name(config::TlsRequired r) noexcept;
[[nodiscard]] std::string_view name(config::SessionReuse r) noexcept;

}  // namespace ftpsd::session
