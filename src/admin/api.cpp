#include "admin/api.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "admin/routes.hpp"
#include "util/embedded.hpp"

namespace ftpsd::admin {

namespace {

bool changes_state(const Request& req) {
  return req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS";
}

bool same_secret(const std::string& given, const std::string& expected) {
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// [cluster]: an account of the database may have been deleted on another node since its token was
// issued: false after answering 401 when it is gone. A database that cannot answer keeps the token.
bool still_there(const Hooks& hooks, const TokenHolder& holder, Response& res) {
  if (!holder.in_database || hooks.accounts == nullptr) return true;
  auto found = hooks.accounts->find_admin(holder.name);
  if (!found || *found) return true;
  send_error(res, 401, fmt::format("the account '{}' no longer exists: sign in again", holder.name));
  return false;
}

}  // namespace

std::optional<TokenHolder> Api::authenticate(const Request& req, Response& res) {
  constexpr std::string_view kBearer = "Bearer ";
  const auto header = req.get_header_value("Authorization");
  if (header.empty()) {
    if (const auto id = cookie(req, kSessionCookie)) {
      auto holder = browser_sessions.find(*id);
      if (!holder) {
        send_error(res, 401, "your session has ended or expired: sign in again");
        return std::nullopt;
      }
      if (changes_state(req) && !same_secret(req.get_header_value("X-CSRF-Token"), holder->csrf)) {
        send_error(res, 403,
                   "a change made with the session cookie needs the header X-CSRF-Token with the session's "
                   "csrf token (GET /api/v1/auth/session)");
        return std::nullopt;
      }
      if (!still_there(hooks, *holder, res)) return std::nullopt;
      return holder;
    }
  }
  if (!header.starts_with(kBearer)) {
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, "sign in first: POST /api/v1/auth/token, then send Authorization: Bearer TOKEN");
    return std::nullopt;
  }
  auto holder = tokens.find(header.substr(kBearer.size()));
  if (!holder) {
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, "the token is unknown or has expired: sign in again");
    return std::nullopt;
  }
  if (!still_there(hooks, *holder, res)) return std::nullopt;
  return holder;
}

std::optional<TokenHolder> Api::require(const Request& req, Response& res, auth::AdminRole role,
                                        std::string_view what) {
  auto who = authenticate(req, res);
  if (!who || who->role >= role) return who;
  const auto* roles = role == auth::AdminRole::kOperator ? "operator or admin" : "admin";
  send_error(res, 403, fmt::format("{} needs the role {}", what, roles));
  return std::nullopt;
}

void Api::record(const Request& req, const TokenHolder& who, std::string action, std::string target,
                 std::string diff) const {
  audit->record({.who = who.name,
                 .address = req.remote_addr,
                 .action = std::move(action),
                 .target = std::move(target),
                 .diff = std::move(diff)});
}

std::shared_ptr<const config::Config> Api::running() const {
  auto cfg = services->snapshot().config;
  if (hooks.listeners.empty()) return cfg;
  auto copy = std::make_shared<config::Config>(*cfg);
  copy->listeners = hooks.listeners;
  return copy;
}

std::optional<NamedDomain> Api::named_domain(const Request& req, Response& res) const {
  const auto name = req.matches[1].str();
  NamedDomain out{.snapshot = services->snapshot(), .domain = nullptr};
  out.domain = out.snapshot.by_name(name);
  if (!out.domain) {
    send_no_domain(res, name);
    return std::nullopt;
  }
  return out;
}

void send_no_domain(Response& res, std::string_view name) {
  send_error(res, 404, fmt::format("no domain named '{}'", name));
}

std::string Router::pattern(const std::string& method, const std::string& path, Segments last) {
  routes_.push_back({method, path});
  std::string regex;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      i = path.find('}', i);
      const bool spans = last == kLastParameterMaySpanSegments && path.find('{', i) == std::string::npos;
      regex += spans ? "(.+)" : "([^/]+)";
    } else if (path[i] == '.') {
      regex += "\\.";
    } else {
      regex += path[i];
    }
  }
  return regex;
}

void Router::get(const std::string& path, Handler handler) {
  server_.Get(pattern("get", path), std::move(handler));
}
void Router::post(const std::string& path, Handler handler) {
  server_.Post(pattern("post", path), std::move(handler));
}
void Router::put(const std::string& path, Handler handler) {
  server_.Put(pattern("put", path), std::move(handler));
}
void Router::del(const std::string& path, Handler handler, Segments last) {
  server_.Delete(pattern("delete", path, last), std::move(handler));
}

void add_routes(Api& api, Router& router) {
  // The API's description, for tools and people: no sign-in needed.
  router.get("/api/v1/openapi.json", [](const Request&, Response& res) {
    res.set_content(std::string(embedded::api_documents().front().data), "application/json");
  });
  add_auth_routes(api, router);
  add_session_routes(api, router);
  add_log_routes(api, router);
  add_user_routes(api, router);
  add_admin_routes(api, router);
  add_ban_routes(api, router);
  add_certificate_routes(api, router);
  add_domain_routes(api, router);
  add_config_routes(api, router);
}

}  // namespace ftpsd::admin
