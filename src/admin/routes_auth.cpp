#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <asio/ip/address.hpp>
#include <charconv>
#include <thread>

#include "admin/routes.hpp"
#include "auth/password.hpp"
#include "session/abuse.hpp"

namespace ftpsd::admin {
namespace {

// The sign-in both routes share (POST /auth/token, POST /auth/session): the account the body names
// when its password is right. Else nullopt after answering 400 (malformed), 403 at once (the address
// is banned: bans.*, the same list as FTP logins) or 401 after the growing login delay (the failure
// counts toward a ban and writes the line fail2ban matches).
std::optional<TokenHolder> sign_in(Api& api, const Request& req, Response& res) {
  const auto config = api.services->snapshot().config;
  std::error_code ec;
  const auto client = asio::ip::make_address(req.remote_addr, ec);
  const auto now = net::Bans::Clock::now();
  if (!ec) {
    if (const auto until = api.services->bans.banned_until(client, config->bans, now)) {
      const auto seconds = std::chrono::ceil<std::chrono::seconds>(*until - now).count();
      send_error(res, 403,
                 fmt::format("too many failed sign-ins from {}: banned for {} more seconds", req.remote_addr,
                             seconds));
      return std::nullopt;
    }
  }
  const auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    send_error(res, 400, R"(the body must be a JSON object {"name": ..., "password": ...})");
    return std::nullopt;
  }
  for (const char* field : {"name", "password"}) {
    if (!body.contains(field) || !body[field].is_string()) {
      send_error(res, 400, fmt::format("'{}' must be a string", field), field);
      return std::nullopt;
    }
  }
  const auto name = body["name"].get<std::string>();
  const auto password = body["password"].get<std::string>();
  // The file's accounts first; then, with [cluster], the database's. A database that cannot answer
  // leaves the file's accounts working.
  const auto* admin = api.admins.find(name);
  std::optional<auth::Admin> stored;
  if (admin == nullptr && api.hooks.accounts != nullptr) {
    auto found = api.hooks.accounts->find_admin(name);
    if (!found) {
      spdlog::warn("admin: sign-in as {} from {} not possible: the cluster database is unreachable ({})",
                   json(name).dump(), req.remote_addr, found.error().message);
      send_error(res, 503,
                 fmt::format("the cluster database is unreachable: {}; only the accounts of admin.users_file "
                             "can sign in until it is back",
                             found.error().message));
      return std::nullopt;
    }
    stored = std::move(*found);
    if (stored) admin = &*stored;
  }
  bool ok = false;
  if (admin != nullptr) {
    ok = auth::verify_password(password, admin->password_hash);
  } else {
    auth::verify_dummy(password);  // an unknown name takes as long as a wrong password
  }
  if (ok)
    return TokenHolder{
        .name = admin->name, .role = admin->role, .csrf = {}, .in_database = stored.has_value()};

  api.failed_logins.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("admin: failed sign-in as {} from {}", json(name).dump(), req.remote_addr);
  if (ec) {
    std::this_thread::sleep_for(config->bans.login_delay);
  } else {
    const auto result =
        session::report_offence(*api.services, *config, client, session::Offence::kLogin,
                                fmt::format("user=\"{}\" reason={} via=manager", session::log_safe(name),
                                            admin != nullptr ? "wrong password" : "unknown user"));
    if (!result.exempt) std::this_thread::sleep_for(session::login_delay(config->bans, result.recent));
    if (result.banned) {
      send_error(res, 403,
                 fmt::format("too many failed sign-ins from {}: banned for {} seconds", req.remote_addr,
                             whole_seconds(config->bans.duration)));
      return std::nullopt;
    }
  }
  send_error(res, 401, "wrong name or password");
  return std::nullopt;
}

void issue_token(Api& api, const Request& req, Response& res) {
  const auto who = sign_in(api, req, res);
  if (!who) return;
  const auto issued = api.tokens.issue(*who);
  spdlog::info("admin: {} ({}) signed in from {}", who->name, auth::name(who->role), req.remote_addr);
  send_json(res,
            json{{"token", issued.token}, {"expires", utc(issued.expires)}, {"role", auth::name(who->role)}});
}

std::string session_cookie(const Api& api, std::string_view value, std::int64_t max_age) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookie, value, max_age,
                     api.tls ? "; Secure" : "");
}

json session_json(const TokenHolder& who, TokenStore::Clock::time_point expires) {
  return json{
      {"name", who.name}, {"role", auth::name(who.role)}, {"expires", utc(expires)}, {"csrf", who.csrf}};
}

void open_session(Api& api, const Request& req, Response& res) {
  auto who = sign_in(api, req, res);
  if (!who) return;
  who->csrf = random_token();
  const auto issued = api.browser_sessions.issue(*who);
  spdlog::info("admin: {} ({}) signed in to the console from {}", who->name, auth::name(who->role),
               req.remote_addr);
  res.set_header("Set-Cookie",
                 session_cookie(api, issued.token, whole_seconds(issued.expires - TokenStore::Clock::now())));
  send_json(res, session_json(*who, issued.expires));
}

// Who the cookie belongs to (GET) or sign out (DELETE, with the CSRF token as any change).
void current_session(Api& api, const Request& req, Response& res) {
  const auto id = cookie(req, kSessionCookie);
  if (!id) {
    send_error(res, 401, "not signed in: POST /api/v1/auth/session");
    return;
  }
  const auto who = api.browser_sessions.find(*id);
  if (!who) {
    send_error(res, 401, "your session has ended or expired: sign in again");
    return;
  }
  const auto expires = api.browser_sessions.expires(*id);
  send_json(res, session_json(*who, expires.value_or(TokenStore::Clock::now())));
}

void close_session(Api& api, const Request& req, Response& res) {
  if (!cookie(req, kSessionCookie)) {
    send_error(res, 401, "not signed in: POST /api/v1/auth/session");
    return;
  }
  const auto who = api.authenticate(req, res);
  if (!who) return;
  api.browser_sessions.revoke(*cookie(req, kSessionCookie));
  spdlog::info("admin: {} signed out of the console from {}", who->name, req.remote_addr);
  res.set_header("Set-Cookie", session_cookie(api, "", 0));
  send_json(res, json{{"signed_out", true}});
}

void audit(const Api& api, const Request& req, Response& res) {
  constexpr std::size_t kDefault = 100;
  constexpr std::size_t kMost = 1000;
  std::size_t limit = kDefault;
  if (req.has_param("limit")) {
    const auto text = req.get_param_value("limit");
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit == 0 || limit > kMost) {
      send_error(res, 400, fmt::format("limit must be a number from 1 to {}", kMost), "limit");
      return;
    }
  }
  send_json(res, api.audit->listing(limit));
}

}  // namespace

void add_auth_routes(Api& api, Router& router) {
  router.post("/api/v1/auth/token",
              [&api](const Request& req, Response& res) { issue_token(api, req, res); });
  router.post("/api/v1/auth/session",
              [&api](const Request& req, Response& res) { open_session(api, req, res); });
  router.get("/api/v1/auth/session",
             [&api](const Request& req, Response& res) { current_session(api, req, res); });
  router.del("/api/v1/auth/session",
             [&api](const Request& req, Response& res) { close_session(api, req, res); });
  router.get("/api/v1/audit", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) audit(api, req, res);
  });
}

}  // namespace ftpsd::admin
