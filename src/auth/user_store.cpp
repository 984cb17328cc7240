#include "auth/user_store.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "auth/toml_file.hpp"
#include "config/names.hpp"

namespace ftpsd::auth {

bool valid_user_name(std::string_view n) {
  if (n.empty() || n.size() > 128) return false;
  return std::ranges::all_of(n, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const toml::node& n, std::string_view what) {
  throw config::ConfigError{fmt::format("{}:{}: {}", file.string(), n.source().begin.line, what)};
}

User parse_user(const toml::table& t, const std::filesystem::path& file) {
  User u;
  for (const auto& [k, v] : t) {
    const auto key = k.str();
    if (key == "name" && v.is_string()) {
      u.name = v.as_string()->get();
    } else if (key == "password_hash" && v.is_string()) {
      u.password_hash = v.as_string()->get();
    } else if (key == "root" && v.is_string()) {
      u.root = file.parent_path() / v.as_string()->get();
    } else if (key == "write" && v.is_boolean()) {
      u.write = v.as_boolean()->get();
    } else if (key == "enabled" && v.is_boolean()) {
      u.enabled = v.as_boolean()->get();
    } else if (key == "certificate_name" && v.is_string()) {
      u.certificate_name = v.as_string()->get();
    } else if (key == "tls_required" && v.is_string()) {
      u.tls_required = config::from_name(config::kTlsRequired, v.as_string()->get());
      if (!u.tls_required)
        fail(file, v, R"(key 'users.tls_required': expected one of "none", "login", "all")");
    } else if (key == "tls_session_reuse" && v.is_string()) {
      u.tls_session_reuse = config::from_name(config::kSessionReuse, v.as_string()->get());
      if (!u.tls_session_reuse)
        fail(file, v, R"(key 'users.tls_session_reuse': expected one of "off", "report", "require")");
    } else if (key == "max_sessions" && v.is_integer()) {
      const auto n = v.as_integer()->get();
      if (n < 0 || n > 1'000'000) fail(file, v, "key 'users.max_sessions': must be between 0 and 1000000");
      u.max_sessions = static_cast<std::size_t>(n);
    } else if ((key == "download_rate" || key == "upload_rate") && (v.is_string() || v.is_integer())) {
      std::optional<std::uint64_t> rate;
      if (v.is_string()) rate = config::parse_rate(v.as_string()->get());
      if (v.is_integer() && v.as_integer()->get() >= 0)
        rate = static_cast<std::uint64_t>(v.as_integer()->get());
      if (!rate)
        fail(file, v,
             fmt::format(R"(key 'users.{}': expected bytes per second such as "500k", "10M" or 0)", key));
      (key == "download_rate" ? u.download_rate : u.upload_rate) = *rate;
    } else if (key == "name" || key == "password_hash" || key == "root" || key == "write" ||
               key == "enabled" || key == "tls_required" || key == "tls_session_reuse" ||
               key == "certificate_name" || key == "max_sessions" || key == "download_rate" ||
               key == "upload_rate") {
      fail(file, v, fmt::format("key 'users.{}': wrong type", key));
    } else {
      fail(file, v, fmt::format("key 'users.{}': unknown key", key));
    }
  }
  if (!valid_user_name(u.name)) fail(file, t, "key 'users.name': missing or not a valid user name");
  if (u.password_hash.empty())
    fail(file, t, fmt::format("user '{}': key 'password_hash' is missing", u.name));
  if (u.root.empty()) fail(file, t, fmt::format("user '{}': key 'root' is missing", u.name));
  return u;
}

}  // namespace

Result<UserStore, config::ConfigError> UserStore::load(const std::filesystem::path& file) {
  bool exists = false;
  const std::string text = read_all(file, exists);
  if (!exists)
    return Unexpected{config::ConfigError{fmt::format("{}: cannot read the users file", file.string())}};
  return parse(text, file);
}

Result<UserStore, config::ConfigError> UserStore::parse(std::string_view text,
                                                        const std::filesystem::path& file) {
  UserStore store;
  try {
    const auto root = toml::parse(text, file.string());
    for (const auto& [k, v] : root) {
      if (k.str() != "users" || !v.is_array()) fail(file, v, fmt::format("key '{}': unknown key", k.str()));
      for (const auto& entry : *v.as_array()) {
        if (!entry.is_table()) fail(file, entry, "key 'users': expected [[users]] tables");
        User u = parse_user(*entry.as_table(), file);
        if (store.users_.contains(u.name))
          fail(file, entry, fmt::format("user '{}' is defined twice", u.name));
        store.users_.emplace(u.name, std::move(u));
      }
    }
  } catch (const toml::parse_error& e) {
    return Unexpected{
        config::ConfigError{fmt::format("{}:{}: {}", file.string(), e.source().begin.line, e.description())}};
  } catch (const config::ConfigError& e) {
    return Unexpected{e};
  }
  return store;
}

std::shared_ptr<const User> share_user(const std::shared_ptr<const UserStore>& store, std::string_view name) {
  if (!store) return nullptr;
  const auto& users = store->all();
  const auto it = users.find(name);
  if (it == users.end()) return nullptr;
  return {store, &it->second};  // shares the ownership of the store (the aliasing constructor)
}

std::optional<User> UserStore::find(std::string_view name) const {
  const auto it = users_.find(name);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::size_t> user_entry_index(std::string_view text, std::string_view name) {
  try {
    const auto root = toml::parse(text);
    const auto* users = root["users"].as_array();
    if (users == nullptr) return std::nullopt;
    for (std::size_t i = 0; i < users->size(); ++i) {
      const auto* t = (*users)[i].as_table();
      if (t != nullptr && (*t)["name"].value_or(std::string()) == name) return i;
    }
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
  return std::nullopt;
}

Result<std::string, std::string> text_with_user(std::string_view text,
                                                std::span<const config::KeyEdit> keys) {
  return config::append_table(text, "users", keys);
}

Result<std::string, std::string> text_without_user(std::string_view text, std::string_view name) {
  const auto index = user_entry_index(text, name);
  if (!index) return Unexpected{fmt::format("no user '{}'", name)};
  return config::remove_table(text, "users", *index);
}

std::string users_file_text(std::span<const User> users, std::string_view comment) {
  std::string out;
  std::size_t start = 0;
  while (start < comment.size()) {
    const auto end = std::min(comment.find('\n', start), comment.size());
    out += fmt::format("# {}\n", comment.substr(start, end - start));
    start = end + 1;
  }
  for (const auto& u : users) {
    out +=
        fmt::format("\n[[users]]\nname = {}\npassword_hash = {}\nroot = {}\nwrite = {}\n",
                    toml_string(u.name), toml_string(u.password_hash), toml_string(u.root.string()), u.write);
    if (!u.enabled) out += "enabled = false\n";
    if (u.tls_required) out += fmt::format("tls_required = \"{}\"\n", config::name(*u.tls_required));
    if (u.tls_session_reuse)
      out += fmt::format("tls_session_reuse = \"{}\"\n", config::name(*u.tls_session_reuse));
    if (u.max_sessions) out += fmt::format("max_sessions = {}\n", *u.max_sessions);
    if (u.download_rate != 0) out += fmt::format("download_rate = {}\n", u.download_rate);
    if (u.upload_rate != 0) out += fmt::format("upload_rate = {}\n", u.upload_rate);
    if (!u.certificate_name.empty())
      out += fmt::format("certificate_name = {}\n", toml_string(u.certificate_name));
  }
  return out;
}

Result<bool, std::string> add_user(const std::filesystem::path& file, const User& user) {
  if (!valid_user_name(user.name)) return Unexpected{fmt::format("'{}' is not a valid user name", user.name)};
  bool exists = false;
  const std::string text = read_all(file, exists);
  if (exists) {
    auto store = UserStore::load(file);
    if (!store) return Unexpected{store.error().message};
    if (store->find(user.name))
      return Unexpected{fmt::format("user '{}' already exists in {}", user.name, file.string())};
  }
  const std::vector<config::KeyEdit> keys{{.path = "name", .value = toml_string(user.name)},
                                          {.path = "password_hash", .value = toml_string(user.password_hash)},
                                          {.path = "root", .value = toml_string(user.root.string())},
                                          {.path = "write", .value = user.write ? "true" : "false"}};
  auto next = text_with_user(text, keys);
  if (!next) return Unexpected{fmt::format("{}: {}", file.string(), next.error())};
  return write_atomically(file, *next);
}

Result<bool, std::string> remove_user(const std::filesystem::path& file, std::string_view name) {
  auto store = UserStore::load(file);
  if (!store) return Unexpected{store.error().message};
  if (!store->find(name)) return Unexpected{fmt::format("no user '{}' in {}", name, file.string())};
  bool exists = false;
  auto next = text_without_user(read_all(file, exists), name);
  if (!next) return Unexpected{fmt::format("{}: {}", file.string(), next.error())};
  return write_atomically(file, *next);
}

}  // namespace ftpsd::auth
