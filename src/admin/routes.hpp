#pragma once
// The routes of the Manager, one file a resource family. Each adds its routes to the router; the
// handlers keep a reference to `api`, which outlives the server.
#include "admin/api.hpp"

namespace ftpsd::admin {

void add_auth_routes(Api& api, Router& router);     // routes_auth.cpp: /auth/..., /audit
void add_session_routes(Api& api, Router& router);  // routes_sessions.cpp: /status, /sessions
void add_log_routes(Api& api, Router& router);      // routes_logs.cpp: /logs, /logs/stream

}  // namespace ftpsd::admin
