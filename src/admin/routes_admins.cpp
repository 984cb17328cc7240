// /admins: the Manager's admin accounts. Those of admin.users_file are listed
// read-only ("source": "file"); with [cluster] accounts are added to and
// deleted from the database's admins table (Hooks::accounts), and any node's
// Manager signs them in. Without [cluster] the file is the only place: `ftpsd
// admin add` writes it.
#include <fmt/format.h>

#include <array>

#include "admin/routes.hpp"
#include "auth/account_database.hpp"
#include "auth/password.hpp"

namespace ftpsd::admin {
namespace {

constexpr std::string_view kNoCluster =
    "admin accounts are in admin.users_file without [cluster]: add one with "
    "`ftpsd admin add`";

json file_admin_json(const auth::Admin& a) {
  return json{{"name", a.name},
              {"role", auth::name(a.role)},
              {"source", "file"},
              {"created", nullptr},
              {"created_by", nullptr}};
}

json stored_admin_json(const auth::StoredAdmin& a) {
  return json{{"name", a.admin.name},
              {"role", auth::name(a.admin.role)},
              {"source", "database"},
              {"created", a.created},
              {"created_by", a.created_by}};
}

void list_admins(const Api& api, Response& res) {
  json list = json::array();
  for (const auto& [name, a] : api.admins.all()) list.push_back(file_admin_json(a));
  json answer{{"cluster", api.hooks.accounts != nullptr}, {"admins", nullptr}};
  if (api.hooks.accounts != nullptr) {
    auto stored = api.hooks.accounts->list_admins();
    if (!stored) {
      answer["cluster_error"] =
          fmt::format("the cluster database is unreachable: {}", stored.error().message);
    } else {
      for (const auto& a : *stored) list.push_back(stored_admin_json(a));
    }
  }
  answer["admins"] = std::move(list);
  send_json(res, answer);
}

void add_admin(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto body = object_body(req, res);
  if (!body) return;
  for (const auto& [key, value] : body->items()) {
    if (key != "name" && key != "password" && key != "role") {
      send_error(res, 422, fmt::format("unknown field '{}'", key), key);
      return;
    }
  }
  const auto text = [&](const char* field) {
    return body->contains(field) && (*body)[field].is_string() ? (*body)[field].get<std::string>()
                                                               : std::string();
  };
  const std::string name = text("name");
  const std::string password = text("password");
  const auto role = auth::parse_admin_role(text("role"));
  if (!auth::valid_admin_name(name)) {
    send_error(res, 422, "'name' must be 1 to 64 letters, digits or _ - . @", "name");
    return;
  }
  if (password.empty()) {
    send_error(res, 422, "'password' must be a string that is not empty", "password");
    return;
  }
  if (!role) {
    send_error(res, 422, R"('role' must be "admin", "operator" or "viewer")", "role");
    return;
  }
  if (api.hooks.accounts == nullptr) {
    send_error(res, 409, kNoCluster);
    return;
  }
  if (api.admins.find(name) != nullptr) {
    send_error(res, 409, fmt::format("admin '{}' already exists in admin.users_file", name));
    return;
  }
  auto hash = auth::hash_password(password);
  if (!hash) {
    send_error(res, 500, hash.error());
    return;
  }
  const auth::Admin admin{.name = name, .password_hash = *hash, .role = *role};
  auto added = api.hooks.accounts->add_admin(admin, who.name);
  if (!added) {
    send_error(res, 503, fmt::format("the cluster database is unreachable: {}", added.error().message));
    return;
  }
  if (!*added) {
    send_error(res, 409, fmt::format("admin '{}' already exists", name));
    return;
  }
  api.record(req, who, "admin.add", fmt::format("{} (role {})", name, auth::name(*role)));
  send_json(res, json{{"admin", json{{"name", name}, {"role", auth::name(*role)}, {"source", "database"}}}},
            201);
}

void remove_admin(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto name = req.matches[1].str();
  if (name == who.name) {
    send_error(res, 409,
               fmt::format("you cannot delete your own account ({}): sign in as another admin", name));
    return;
  }
  if (api.admins.find(name) != nullptr) {
    send_error(res, 409, fmt::format("admin '{}' is in admin.users_file: remove it there", name));
    return;
  }
  if (api.hooks.accounts == nullptr) {
    send_error(res, 404, fmt::format("no admin account '{}'", name));
    return;
  }
  auto removed = api.hooks.accounts->remove_admin(name);
  if (!removed) {
    send_error(res, 503, fmt::format("the cluster database is unreachable: {}", removed.error().message));
    return;
  }
  if (!*removed) {
    send_error(res, 404, fmt::format("no admin account '{}'", name));
    return;
  }
  // Signed out here at once; the tokens another node issued at their next request (Api::authenticate).
  api.tokens.revoke_holder(name);
  api.browser_sessions.revoke_holder(name);
  api.record(req, who, "admin.remove", name);
  send_json(res, json{{"name", name}, {"deleted", true}});
}

}  // namespace

void add_admin_routes(Api& api, Router& router) {
  router.get("/api/v1/admins", [&api](const Request& req, Response& res) {
    if (api.require(req, res, auth::AdminRole::kAdmin, "listing admin accounts")) list_admins(api, res);
  });
  router.post("/api/v1/admins", [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kAdmin, "changing admin accounts"))
      add_admin(api, req, res, *who);
  });
  router.del("/api/v1/admins/{name}", [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kAdmin, "changing admin accounts"))
      remove_admin(api, req, res, *who);
  });
}

}  // namespace ftpsd::admin
