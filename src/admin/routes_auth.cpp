#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <thread>

#include "admin/routes.hpp"
#include "auth/password.hpp"

namespace ftpsd::admin {
namespace {

void sign_in(Api& api, const Request& req, Response& res) {
  const auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    send_error(res, 400, R"(the body must be a JSON object {"name": ..., "password": ...})");
    return;
  }
  for (const char* field : {"name", "password"}) {
    if (!body.contains(field) || !body[field].is_string()) {
      send_error(res, 400, fmt::format("'{}' must be a string", field), field);
      return;
    }
  }
  const auto name = body["name"].get<std::string>();
  const auto password = body["password"].get<std::string>();
  const auto* admin = api.admins.find(name);
  bool ok = false;
  if (admin != nullptr) {
    ok = auth::verify_password(password, admin->password_hash);
  } else {
    auth::verify_dummy(password);  // an unknown name takes as long as a wrong password
  }
  if (!ok) {
    api.failed_logins.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("admin: failed sign-in as {} from {}", json(name).dump(), req.remote_addr);
    std::this_thread::sleep_for(api.login_delay);
    send_error(res, 401, "wrong name or password");
    return;
  }
  const auto issued = api.tokens.issue({.name = admin->name, .role = admin->role});
  spdlog::info("admin: {} ({}) signed in from {}", admin->name, auth::name(admin->role), req.remote_addr);
  send_json(
      res,
      json{{"token", issued.token}, {"expires", utc(issued.expires)}, {"role", auth::name(admin->role)}});
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
  send_json(res, json{{"entries", api.audit->recent(limit)}});
}

}  // namespace

void add_auth_routes(Api& api, Router& router) {
  router.post("/api/v1/auth/token", [&api](const Request& req, Response& res) { sign_in(api, req, res); });
  router.get("/api/v1/audit", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) audit(api, req, res);
  });
}

}  // namespace ftpsd::admin
