#pragma once
// The routes of the Manager, one file a resource family. Each adds its routes to the router; the
// handlers keep a reference to `api`, which outlives the server.
#include <optional>
#include <string>
#include <string_view>

#include "admin/api.hpp"
#include "inet/ip_network.hpp"
#include "util/duration.hpp"

namespace ftpsd::admin {

void add_auth_routes(Api& api, Router& router);     // routes_auth.cpp: /auth/..., /audit
void add_session_routes(Api& api, Router& router);  // routes_sessions.cpp: /status, /sessions
void add_log_routes(Api& api, Router& router);      // routes_logs.cpp: /logs, /logs/stream
void add_domain_routes(Api& api, Router& router);   // routes_domains.cpp: /domains/...
void add_config_routes(Api& api, Router& router);   // routes_config.cpp: /config/revisions, /config/diff
void add_user_routes(Api& api, Router& router);     // routes_users.cpp: /domains/{domain}/users
void add_admin_routes(Api& api, Router& router);    // routes_admins.cpp: /admins
void add_ban_routes(Api& api, Router& router);      // routes_bans.cpp: /bans
void add_certificate_routes(Api& api,
                            Router& router);  // routes_certificates.cpp: /domains/{domain}/certificates

// routes_bans.cpp, also for DELETE /sessions/{id}?ban=: a ban's duration as typed ("15m"), more than 0.
[[nodiscard]] std::optional<Duration> parse_ban_duration(std::string_view text);
// The refusal of a bad duration in `field`.
[[nodiscard]] std::string bad_duration(std::string_view field);
// Bans `network` for `duration` (audited as `who`'s "ban.add"); the ban as GET /bans lists it, or
// nullopt when the list of operators' bans is full.
[[nodiscard]] std::optional<json> add_ban(Api& api, const Request& req, const TokenHolder& who,
                                          const inet::IpNetwork& network, Duration duration,
                                          std::string_view duration_text, std::string reason);

}  // namespace ftpsd::admin
