// /domains/{domain}/users: the domain's users file, changed the careful way (only the entry's lines, the
// result checked as the server will load it, the previous text kept as a revision, a file edited by hand
// meanwhile refused), then applied by a reload; the sessions of a deleted or disabled user end.
// With [cluster] (Hooks::accounts): the users table of the cluster database instead, with the same
// answers; a row's tag stands for the file's, and the other nodes end a user's sessions too.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <set>
#include <sstream>

#include "admin/routes.hpp"
#include "auth/account_database.hpp"
#include "auth/password.hpp"
#include "auth/toml_file.hpp"
#include "auth/user_store.hpp"
#include "config/config_file.hpp"
#include "config/editor.hpp"
#include "config/loader.hpp"
#include "config/names.hpp"

namespace ftpsd::admin {
namespace {

// The fields of a user, in the order a new entry writes its keys ("password" as password_hash).
constexpr std::array<std::string_view, 11> kFields = {"name",
                                                      "password",
                                                      "root",
                                                      "write",
                                                      "enabled",
                                                      "max_sessions",
                                                      "download_rate",
                                                      "upload_rate",
                                                      "tls_required",
                                                      "tls_session_reuse",
                                                      "certificate_name"};

json user_json(const auth::User& u) {
  const auto optional_name = [](const auto& v) { return v ? json(config::name(*v)) : json(nullptr); };
  return json{{"name", u.name},
              {"root", u.root.lexically_normal().string()},
              {"write", u.write},
              {"enabled", u.enabled},
              {"max_sessions", u.max_sessions ? json(*u.max_sessions) : json(nullptr)},
              {"download_rate", u.download_rate},
              {"upload_rate", u.upload_rate},
              {"tls_required", optional_name(u.tls_required)},
              {"tls_session_reuse", optional_name(u.tls_session_reuse)},
              {"certificate_name", u.certificate_name.empty() ? json(nullptr) : json(u.certificate_name)}};
}

// A version tag of the file's text for ETag and If-Match (change detection, not security).
std::string etag(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}\"", h);
}

struct UsersFile {
  std::string domain;
  std::filesystem::path path;
  std::set<std::string, std::less<>> domains;  // every domain that uses this file
};

// The users file of the domain named in the path; nullopt after answering 404 or 409.
std::optional<UsersFile> users_file(const Api& api, const Request& req, Response& res) {
  const auto named = api.named_domain(req, res);
  if (!named) return std::nullopt;
  const std::string& name = named->domain->name;
  const auto& file = named->domain->config->users.file;
  if (file.empty()) {
    send_error(
        res, 409,
        fmt::format("domain {} has no users file (users.file): set one in the configuration first", name));
    return std::nullopt;
  }
  UsersFile out{.domain = name, .path = file, .domains = {}};
  for (const auto& d : named->snapshot.domains)
    if (d->config->users.file == file) out.domains.insert(d->name);
  return out;
}

struct FieldError {
  std::string message;
  std::string field;
};

struct Edits {
  std::vector<config::KeyEdit> keys;  // path = the key's name in the entry
  std::optional<std::string> password;
};

// A setting other than name, password and root (given, not null) as its TOML value ("" for a
// certificate_name that removes the key); the refusal's text otherwise.
Result<std::string, std::string> setting_value(std::string_view field, const json& v) {
  if (field == "write" || field == "enabled") {
    if (!v.is_boolean()) return Unexpected{fmt::format("'{}' must be true or false", field)};
    return std::string(v.get<bool>() ? "true" : "false");
  }
  if (field == "max_sessions") {
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > 1'000'000)
      return Unexpected{std::string("'max_sessions' must be a number from 0 to 1000000, or null")};
    return std::to_string(v.get<std::int64_t>());
  }
  if (field == "download_rate" || field == "upload_rate") {
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return std::to_string(v.get<std::int64_t>());
    if (v.is_string() && config::parse_rate(v.get<std::string>()))
      return config::toml_quote(v.get<std::string>());
    return Unexpected{
        fmt::format(R"('{}' must be bytes per second such as "500k", "10M" or 0, or null)", field)};
  }
  if (field == "tls_required") {
    if (!v.is_string() || !config::from_name(config::kTlsRequired, v.get<std::string>()))
      return Unexpected{std::string(R"('tls_required' must be "none", "login" or "all", or null)")};
    return config::toml_quote(v.get<std::string>());
  }
  if (field == "tls_session_reuse") {
    if (!v.is_string() || !config::from_name(config::kSessionReuse, v.get<std::string>()))
      return Unexpected{std::string(R"('tls_session_reuse' must be "off", "report" or "require", or null)")};
    return config::toml_quote(v.get<std::string>());
  }
  // certificate_name
  if (!v.is_string()) return Unexpected{std::string("'certificate_name' must be a string, or null")};
  return v.get<std::string>().empty() ? std::string() : config::toml_quote(v.get<std::string>());
}

// name, password and root: the key to write, or the refusal's text.
// `file`: the users file (a relative root is relative to its folder); nullptr: the cluster database,
// where roots are absolute.
Result<config::KeyEdit, std::string> identity_edit(std::string_view field, const json& v,
                                                   const std::filesystem::path* file) {
  if (field == "name") {
    if (!v.is_string() || !auth::valid_user_name(v.get<std::string>()))
      return Unexpected{std::string("'name' must be 1 to 128 letters, digits or _ - . @")};
    return config::KeyEdit{"name", config::toml_quote(v.get<std::string>())};
  }
  if (field == "password") {
    if (!v.is_string() || v.get<std::string>().empty())
      return Unexpected{std::string("'password' must be a string that is not empty")};
    return config::KeyEdit{"password_hash", std::nullopt};  // filled in once everything else is valid
  }
  if (v.is_null()) return Unexpected{std::string("'root' is required")};
  if (!v.is_string() || v.get<std::string>().empty())
    return Unexpected{std::string("'root' must be the path of a folder")};
  const std::filesystem::path root = v.get<std::string>();
  if (file == nullptr && !root.is_absolute())
    return Unexpected{
        std::string("'root' must be an absolute path (the users of the cluster database have "
                    "absolute roots)")};
  std::error_code ec;
  if (!std::filesystem::is_directory(file != nullptr ? file->parent_path() / root : root, ec))
    return Unexpected{fmt::format("'root': no folder {}", root.string())};
  return config::KeyEdit{"root", config::toml_quote(root.string())};
}

// The body's fields as the keys to write (nullopt: remove the key); a refused field as FieldError.
Result<Edits, FieldError> edits_of(const json& body, const std::optional<std::string>& existing,
                                   const std::filesystem::path* file) {
  for (const auto& [key, value] : body.items()) {
    if (std::ranges::find(kFields, key) == kFields.end())
      return Unexpected{FieldError{fmt::format("unknown field '{}'", key), key}};
  }
  const auto fail = [](std::string_view field, std::string message) {
    return Unexpected{FieldError{std::move(message), std::string(field)}};
  };
  Edits out;
  for (const auto field : kFields) {
    const bool identity = field == "name" || field == "password" || field == "root";
    if (!body.contains(field)) {
      if (identity && !existing) return fail(field, fmt::format("'{}' is required", field));
      continue;
    }
    const auto& v = body[std::string(field)];
    if (field == "name" && existing) {
      if (v.is_string() && v.get<std::string>() == *existing) continue;
      return fail(field, "'name' cannot change: add a new user and delete this one");
    }
    if (identity) {
      auto edit = identity_edit(field, v, file);
      if (!edit) return fail(field, edit.error());
      if (field == "password") out.password = v.get<std::string>();
      out.keys.push_back(std::move(*edit));
    } else if (v.is_null()) {
      out.keys.push_back({std::string(field), std::nullopt});
    } else {
      auto value = setting_value(field, v);
      if (!value) return fail(field, value.error());
      out.keys.push_back({std::string(field), value->empty() ? std::nullopt : std::optional(*value)});
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The changed lines ("- " old, "+ " new) for the audit log, password hashes hidden.
std::string difference(const std::string& before, const std::string& after) {
  const auto a = lines_of(before);
  const auto b = lines_of(after);
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) ++head;
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head && a[a.size() - 1 - tail] == b[b.size() - 1 - tail])
    ++tail;
  std::string out;
  const auto add = [&out](std::string_view sign, const std::string& line) {
    const auto first = line.find_first_not_of(" \t");
    const bool hash = first != std::string::npos && line.compare(first, 13, "password_hash") == 0;
    out += fmt::format("{} {}\n", sign, hash ? "password_hash = (hidden)" : line);
  };
  for (std::size_t i = head; i < a.size() - tail; ++i) add("-", a[i]);
  for (std::size_t i = head; i < b.size() - tail; ++i) add("+", b[i]);
  return out;
}

enum class Change : std::uint8_t { kAdd, kChange, kRemove };

// Writes `next` over `file` (read before) the careful way and applies it. Answers the errors; returns
// the revision kept and whether the reload applied it.
struct Written {
  unsigned revision = 0;
  bool applied = false;
  std::optional<std::string> why_not;
};

std::optional<Written> write_and_apply(Api& api, config::ConfigFile& file, const std::string& next,
                                       Response& res) {
  if (auto checked = auth::UserStore::parse(next, file.path()); !checked) {
    // "users.toml:7: key 'users.root': ..." names the key at fault.
    const auto& m = checked.error().message;
    std::optional<std::string> field;
    if (const auto at = m.find("key 'users."); at != std::string::npos) {
      const auto from = at + 11;
      field = m.substr(from, m.find('\'', from) - from);
      if (field == "password_hash") field = "password";
    }
    send_error(res, 422, fmt::format("not written: {}", m), field);
    return std::nullopt;
  }
  auto kept = file.replace(next);
  if (!kept) {
    send_error(res, kept.error().find("changed since it was read") != std::string::npos ? 409 : 500,
               kept.error());
    return std::nullopt;
  }
  Written w{.revision = *kept, .applied = false, .why_not = std::nullopt};
  w.why_not = api.hooks.reload();
  w.applied = !w.why_not;
  return w;
}

// Ends the sessions of `name` in the domains that use the file (their clients get 421).
void end_sessions_of(const Api& api, const UsersFile& users, std::string_view name) {
  for (const auto& s : api.services->registry.list())
    if (s.user == name && users.domains.contains(s.domain)) (void)api.services->registry.end(s.id);
}

void change(Api& api, const Request& req, Response& res, const TokenHolder& who, Change kind) {
  const auto users = users_file(api, req, res);
  if (!users) return;
  std::optional<json> body = json::object();
  if (kind != Change::kRemove) {
    body = object_body(req, res);
    if (!body) return;
  }
  const std::optional<std::string> existing =
      kind == Change::kAdd ? std::nullopt : std::optional(req.matches[2].str());
  auto edits = edits_of(*body, existing, &users->path);
  if (!edits) {
    send_error(res, 422, edits.error().message, edits.error().field);
    return;
  }
  auto file = config::ConfigFile::open(users->path);
  if (!file) {
    send_error(res, 500, file.error());
    return;
  }
  if (req.has_header("If-Match") && req.get_header_value("If-Match") != etag(file->text())) {
    send_error(
        res, 409,
        fmt::format("{} changed since it was read (edited by hand meanwhile?); nothing was written: read "
                    "it again and repeat the change",
                    users->path.string()));
    return;
  }
  const std::string name = existing ? *existing : (*body)["name"].get<std::string>();
  const auto index = auth::user_entry_index(file->text(), name);
  if (kind == Change::kAdd && index) {
    send_error(res, 409, fmt::format("user '{}' already exists in domain {}", name, users->domain));
    return;
  }
  if (kind != Change::kAdd && !index) {
    send_error(res, 404, fmt::format("no user '{}' in domain {}", name, users->domain));
    return;
  }
  if (edits->password) {
    auto hash = auth::hash_password(*edits->password);
    if (!hash) {
      send_error(res, 500, hash.error());
      return;
    }
    for (auto& k : edits->keys)
      if (k.path == "password_hash") k.value = auth::toml_string(*hash);
  }
  Result<std::string, std::string> next = std::string();
  if (kind == Change::kAdd) {
    next = auth::text_with_user(file->text(), edits->keys);
  } else if (kind == Change::kRemove) {
    next = auth::text_without_user(file->text(), name);
  } else {
    std::vector<config::KeyEdit> paths;
    for (const auto& k : edits->keys) paths.push_back({fmt::format("users[{}].{}", *index, k.path), k.value});
    next = config::edit_toml(file->text(), paths);
  }
  if (!next) {
    send_error(res, 409, fmt::format("{}: cannot change it here: {}", users->path.string(), next.error()));
    return;
  }
  const std::string before = file->text();
  const auto written = write_and_apply(api, *file, *next, res);
  if (!written) return;
  static constexpr std::array<std::string_view, 3> kActions = {"user.add", "user.change", "user.remove"};
  api.record(req, who, std::string(kActions[static_cast<std::size_t>(kind)]),
             fmt::format("{}/{}", users->domain, name), difference(before, *next));
  const auto store = auth::UserStore::parse(*next, users->path);
  const auto user = kind == Change::kRemove ? std::nullopt : store->find(name);
  if (written->applied && (!user || !user->enabled)) end_sessions_of(api, *users, name);
  json answer =
      kind == Change::kRemove ? json{{"name", name}, {"deleted", true}} : json{{"user", user_json(*user)}};
  answer["applied"] = written->applied;
  answer["revision"] = written->revision;
  if (written->why_not) answer["warning"] = fmt::format("written, but not applied: {}", *written->why_not);
  res.set_header("ETag", etag(*next));
  send_json(res, answer, kind == Change::kAdd ? 201 : 200);
}

// The users as the file says now (what a change starts from), with its ETag.
void read(const Api& api, const Request& req, Response& res, bool one) {
  const auto users = users_file(api, req, res);
  if (!users) return;
  auto file = config::ConfigFile::open(users->path);
  if (!file) {
    send_error(res, 500, file.error());
    return;
  }
  auto store = auth::UserStore::parse(file->text(), users->path);
  if (!store) {
    send_error(res, 409, fmt::format("the users file is broken: {}", store.error().message));
    return;
  }
  res.set_header("ETag", etag(file->text()));
  if (one) {
    const auto name = req.matches[2].str();
    const auto user = store->find(name);
    if (!user) {
      send_error(res, 404, fmt::format("no user '{}' in domain {}", name, users->domain));
      return;
    }
    send_json(res, user_json(*user));
    return;
  }
  json list = json::array();
  for (const auto& [name, user] : store->all()) list.push_back(user_json(user));
  send_json(res, json{{"domain", users->domain}, {"users", list}});
}

// --- [cluster]: the users table of the cluster database (auth::AccountDatabase), same answers.

void send_unreachable(Response& res, const auth::AccountDbError& e) {
  send_error(res, 503, fmt::format("the cluster database is unreachable: {}", e.message));
}

// The body's fields (checked by edits_of) written over `u`; a field given as null takes its default.
void apply_fields(const json& body, const std::optional<std::string>& password_hash, auth::User& u) {
  for (const auto& [key, v] : body.items()) {
    if (key == "password") {
      u.password_hash = *password_hash;
    } else if (key == "root") {
      u.root = v.get<std::string>();
    } else if (key == "write") {
      u.write = !v.is_null() && v.get<bool>();
    } else if (key == "enabled") {
      u.enabled = v.is_null() || v.get<bool>();
    } else if (key == "max_sessions") {
      u.max_sessions = v.is_null() ? std::nullopt : std::optional<std::size_t>(v.get<std::size_t>());
    } else if (key == "download_rate" || key == "upload_rate") {
      const std::uint64_t rate =
          v.is_null() ? 0
                      : (v.is_string() ? *config::parse_rate(v.get<std::string>()) : v.get<std::uint64_t>());
      (key == "download_rate" ? u.download_rate : u.upload_rate) = rate;
    } else if (key == "tls_required") {
      u.tls_required =
          v.is_null() ? std::nullopt : config::from_name(config::kTlsRequired, v.get<std::string>());
    } else if (key == "tls_session_reuse") {
      u.tls_session_reuse =
          v.is_null() ? std::nullopt : config::from_name(config::kSessionReuse, v.get<std::string>());
    } else if (key == "certificate_name") {
      u.certificate_name = v.is_null() ? std::string() : v.get<std::string>();
    }
  }
}

// The user as a users file entry, for the audit's diff (the hash hidden there).
std::string entry_text(const std::optional<auth::User>& u) {
  if (!u) return {};
  auto text = auth::users_file_text(std::span<const auth::User>(&*u, 1), "");
  if (text.starts_with('\n')) text.erase(0, 1);
  return text;
}

void read_database(Api& api, const Request& req, Response& res, bool one) {
  const auto named = api.named_domain(req, res);
  if (!named) return;
  const std::string& domain = named->domain->name;
  auto& db = *api.hooks.accounts;
  if (one) {
    const auto name = req.matches[2].str();
    auto found = db.find_user(domain, name);
    if (!found) {
      send_unreachable(res, found.error());
      return;
    }
    if (!*found) {
      send_error(res, 404, fmt::format("no user '{}' in domain {}", name, domain));
      return;
    }
    res.set_header("ETag", (*found)->tag);
    send_json(res, user_json((*found)->user));
    return;
  }
  auto all = db.list_users(domain);
  if (!all) {
    send_unreachable(res, all.error());
    return;
  }
  json list = json::array();
  for (const auto& u : all->users) list.push_back(user_json(u));
  res.set_header("ETag", all->tag);
  send_json(res, json{{"domain", domain}, {"users", list}});
}

void change_database(Api& api, const Request& req, Response& res, const TokenHolder& who, Change kind) {
  const auto named = api.named_domain(req, res);
  if (!named) return;
  const std::string& domain = named->domain->name;
  std::optional<json> body = json::object();
  if (kind != Change::kRemove) {
    body = object_body(req, res);
    if (!body) return;
  }
  const std::optional<std::string> existing =
      kind == Change::kAdd ? std::nullopt : std::optional(req.matches[2].str());
  auto edits = edits_of(*body, existing, nullptr);
  if (!edits) {
    send_error(res, 422, edits.error().message, edits.error().field);
    return;
  }
  std::optional<std::string> hash;
  if (edits->password) {
    auto hashed = auth::hash_password(*edits->password);
    if (!hashed) {
      send_error(res, 500, hashed.error());
      return;
    }
    hash = std::move(*hashed);
  }
  const std::string name = existing ? *existing : (*body)["name"].get<std::string>();
  const std::optional<std::string> if_match =
      req.has_header("If-Match") ? std::optional(req.get_header_value("If-Match")) : std::nullopt;
  static constexpr std::array<auth::UserChange, 3> kKinds = {
      auth::UserChange::kAdd, auth::UserChange::kChange, auth::UserChange::kRemove};
  auto& db = *api.hooks.accounts;
  auto changed = db.change_user(domain, name, kKinds[static_cast<std::size_t>(kind)], if_match,
                                [&](const std::optional<auth::User>& before) {
                                  auth::User next = before.value_or(auth::User{});
                                  apply_fields(*body, hash, next);
                                  return next;
                                });
  if (!changed) {
    send_unreachable(res, changed.error());
    return;
  }
  using Outcome = auth::UserChangeResult::Outcome;
  switch (changed->outcome) {
    case Outcome::kTagMismatch:
      send_error(
          res, 409,
          fmt::format("the users of domain {} changed since they were read (by another administrator, or "
                      "on another node); nothing was written: read them again and repeat the change",
                      domain));
      return;
    case Outcome::kExists:
      send_error(res, 409, fmt::format("user '{}' already exists in domain {}", name, domain));
      return;
    case Outcome::kMissing:
      send_error(res, 404, fmt::format("no user '{}' in domain {}", name, domain));
      return;
    case Outcome::kDone:
      break;
  }
  static constexpr std::array<std::string_view, 3> kActions = {"user.add", "user.change", "user.remove"};
  api.record(req, who, std::string(kActions[static_cast<std::size_t>(kind)]),
             fmt::format("{}/{}", domain, name),
             difference(entry_text(changed->before), entry_text(changed->after)));
  json answer = kind == Change::kRemove ? json{{"name", name}, {"deleted", true}}
                                        : json{{"user", user_json(*changed->after)}};
  answer["applied"] = true;  // the next login on any node reads the row
  answer["revision"] = nullptr;
  if (!changed->after || !changed->after->enabled) {
    // Here at once; on the other nodes at their next heartbeat.
    for (const auto& s : api.services->registry.list())
      if (s.user == name && s.domain == domain) (void)api.services->registry.end(s.id);
    if (auto asked = db.end_sessions_elsewhere(domain, name); !asked)
      answer["warning"] =
          fmt::format("changed, but the other nodes could not be asked to end the user's sessions: {}",
                      asked.error().message);
  }
  if (kind != Change::kRemove) res.set_header("ETag", changed->tag);
  send_json(res, answer, kind == Change::kAdd ? 201 : 200);
}

}  // namespace

void add_user_routes(Api& api, Router& router) {
  const std::string users = "/api/v1/domains/{domain}/users";
  const std::string user = users + "/{name}";
  router.get(users, [&api](const Request& req, Response& res) {
    if (!api.authenticate(req, res)) return;
    if (api.hooks.accounts != nullptr)
      read_database(api, req, res, false);
    else
      read(api, req, res, false);
  });
  router.get(user, [&api](const Request& req, Response& res) {
    if (!api.authenticate(req, res)) return;
    if (api.hooks.accounts != nullptr)
      read_database(api, req, res, true);
    else
      read(api, req, res, true);
  });
  const auto changing = [&api](Change kind) {
    return [&api, kind](const Request& req, Response& res) {
      const auto who = api.require(req, res, auth::AdminRole::kAdmin, "changing users");
      if (!who) return;
      if (api.hooks.accounts != nullptr)
        change_database(api, req, res, *who, kind);
      else
        change(api, req, res, *who, kind);
    };
  };
  router.post(users, changing(Change::kAdd));
  router.put(user, changing(Change::kChange));
  router.del(user, changing(Change::kRemove));
}

}  // namespace ftpsd::admin
