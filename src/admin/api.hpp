#pragma once
// What every route of the Manager shares: the running server (session::Services), the admin accounts
// and their tokens, the hooks into the daemon; and the Router that records each route in the form the
// OpenAPI document (docs/openapi.json) lists it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/audit.hpp"
#include "admin/history.hpp"
#include "admin/http.hpp"
#include "admin/request_limiter.hpp"
#include "admin/tokens.hpp"
#include "auth/account_database.hpp"
#include "auth/admin_store.hpp"
#include "cluster/node_registry.hpp"
#include "cluster/shared_settings.hpp"
#include "inet/ip_network.hpp"
#include "session/services.hpp"

namespace ftpsd::admin {

// What the Manager asks of the daemon. Each may block its HTTP thread, never an FTP event loop.
struct Hooks {
  // Reads the configuration file again and applies it as SIGHUP does. Returns once new sessions use
  // it (nullopt), or why it was not applied (the running configuration is then unchanged).
  std::function<std::optional<std::string>()> reload;
  // The listeners as bound at start (a port 0 of the file replaced by the port bound); they change only
  // at a restart. Empty: those of the running configuration.
  std::vector<config::ListenerConfig> listeners;
  // [cluster]: the nodes and their sessions (GET /nodes, /sessions; DELETE /sessions/{id} of another
  // node). Null without [cluster].
  cluster::NodeRegistry* nodes = nullptr;
  // [cluster]: the users and the admin accounts in the database: the user routes work on it, and a
  // sign-in not in admin.users_file is checked in it. Null without [cluster].
  auth::AccountDatabase* accounts = nullptr;
  // [cluster]: the audit log of every node (GET /audit), named by nodes->node(). Null without [cluster].
  std::shared_ptr<AuditShare> audit;
  // [cluster]: the settings the nodes share (PUT /domains/{domain}/passive). Null without [cluster].
  cluster::SharedSettings* shared = nullptr;
};

// A domain that a request's path names (its first parameter), with the snapshot it was found in.
struct NamedDomain {
  session::Snapshot snapshot;
  std::shared_ptr<const session::Domain> domain;
};

// The browser's session cookie (HttpOnly, SameSite=Strict; Secure with TLS).
inline constexpr std::string_view kSessionCookie = "ftpsd_session";

class Api {
 public:
  session::Services* services = nullptr;  // set by AdminServer::start
  Hooks hooks;
  auth::AdminStore admins;
  TokenStore tokens;                                   // bearer tokens (POST /auth/token)
  TokenStore browser_sessions{std::chrono::hours(8)};  // the session cookie (POST /auth/session)
  std::unique_ptr<AuditLog> audit;                     // set by AdminServer::prepare
  std::unique_ptr<RequestLimiter> limiter;             // set by AdminServer::prepare
  History history;                                     // the dashboard's last hour
  std::vector<inet::IpNetwork> allow;
  bool tls = true;  // the cookie is Secure
  std::atomic<std::uint64_t> failed_logins{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Live log streams (Server-Sent Events) hold an HTTP thread each: at most kMostStreams at once.
  static constexpr int kMostStreams = 4;
  std::atomic<int> streams{0};
  std::atomic<bool> stopping{false};  // set before the server stops: streams end
  // Held by a route from reading the configuration file to applying its change (config_change.hpp):
  // changes through the Manager one at a time.
  std::mutex config_changes;

  // Who sent the request: a bearer token (Authorization), else the session cookie, which a POST, PUT
  // or DELETE must back with its X-CSRF-Token. nullopt after answering 401 (none, unknown or expired)
  // or 403 (the CSRF token missing or wrong).
  [[nodiscard]] std::optional<TokenHolder> authenticate(const Request& req, Response& res);
  // Who sent the request if their role is at least `role`; nullopt after answering 401 or 403 (the
  // 403 says "`what` needs the role ...").
  [[nodiscard]] std::optional<TokenHolder> require(const Request& req, Response& res, auth::AdminRole role,
                                                   std::string_view what);
  // Records a change in the audit log (who and from where come from the request).
  void record(const Request& req, const TokenHolder& who, std::string action, std::string target,
              std::string diff = {}) const;
  // The running configuration, its listeners as bound (Hooks::listeners).
  [[nodiscard]] std::shared_ptr<const config::Config> running() const;
  // The running domain named by the path's first parameter; nullopt after answering 404.
  [[nodiscard]] std::optional<NamedDomain> named_domain(const Request& req, Response& res) const;
};

// The 404 for a path that names a domain the running configuration does not have.
void send_no_domain(Response& res, std::string_view name);

// A route as the OpenAPI document names it: method in lower case ("get"), path with {parameters}.
struct Route {
  std::string method;
  std::string path;
};

class Router {
 public:
  using Handler = std::function<void(const Request&, Response&)>;
  explicit Router(httplib::Server& server) : server_(server) {}

  // How the last {parameter} of a path matches. cpp-httplib decodes the path before it routes, so a
  // parameter sent URL-encoded with a '/' in it ("203.0.113.0%2F24") arrives as two segments.
  enum Segments : std::uint8_t { kOneSegment, kLastParameterMaySpanSegments };

  // `path`: "/api/v1/sessions/{id}"; each {parameter} matches one path segment, and the handler finds
  // them in req.matches[1], [2], ... in order.
  void get(const std::string& path, Handler handler);
  void post(const std::string& path, Handler handler);
  void put(const std::string& path, Handler handler);
  void del(const std::string& path, Handler handler, Segments last = kOneSegment);

  [[nodiscard]] const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  [[nodiscard]] std::string pattern(const std::string& method, const std::string& path,
                                    Segments last = kOneSegment);

  httplib::Server& server_;
  std::vector<Route> routes_;
};

// Every route of the API (routes_*.cpp).
void add_routes(Api& api, Router& router);

}  // namespace ftpsd::admin
