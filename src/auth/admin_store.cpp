#include "auth/admin_store.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>

#include "auth/toml_file.hpp"

namespace ftpsd::auth {
namespace {

constexpr std::pair<std::string_view, AdminRole> kRoles[] = {
    {"admin", AdminRole::kAdmin}, {"operator", AdminRole::kOperator}, {"viewer", AdminRole::kViewer}};

[[noreturn]] void fail(const std::filesystem::path& file, const toml::node& n, std::string_view what) {
  throw config::ConfigError{fmt::format("{}:{}: {}", file.string(), n.source().begin.line, what)};
}

Admin parse_admin(const toml::table& t, const std::filesystem::path& file) {
  Admin a;
  bool has_role = false;
  for (const auto& [k, v] : t) {
    const auto key = k.str();
    if (key != "name" && key != "password_hash" && key != "role")
      fail(file, v, fmt::format("key 'admins.{}': unknown key", key));
    if (!v.is_string()) fail(file, v, fmt::format("key 'admins.{}': expected a string", key));
    const auto& text = v.as_string()->get();
    if (key == "name") {
      a.name = text;
    } else if (key == "password_hash") {
      a.password_hash = text;
    } else {
      const auto role = parse_admin_role(text);
      if (!role) fail(file, v, R"(key 'admins.role': expected one of "admin", "operator", "viewer")");
      a.role = *role;
      has_role = true;
    }
  }
  if (!valid_admin_name(a.name)) fail(file, t, "key 'admins.name': missing or not a valid name");
  if (a.password_hash.empty())
    fail(file, t, fmt::format("admin '{}': key 'password_hash' is missing", a.name));
  if (!has_role) fail(file, t, fmt::format("admin '{}': key 'role' is missing", a.name));
  return a;
}

}  // namespace

std::string_view name(AdminRole role) noexcept {
  for (const auto& [text, value] : kRoles) {
    if (value == role) return text;
  }
  return "viewer";
}

bool valid_admin_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  return std::ranges::all_of(n, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
  });
}

std::optional<AdminRole> parse_admin_role(std::string_view text) noexcept {
  for (const auto& [name, value] : kRoles) {
    if (name == text) return value;
  }
  return std::nullopt;
}

Result<AdminStore, config::ConfigError> AdminStore::load(const std::filesystem::path& file) {
  bool exists = false;
  const std::string text = read_all(file, exists);
  if (!exists)
    return Unexpected{config::ConfigError{fmt::format("{}: cannot read the admins file", file.string())}};
  AdminStore store;
  try {
    const auto root = toml::parse(text, file.string());
    for (const auto& [k, v] : root) {
      if (k.str() != "admins" || !v.is_array()) fail(file, v, fmt::format("key '{}': unknown key", k.str()));
      for (const auto& entry : *v.as_array()) {
        if (!entry.is_table()) fail(file, entry, "key 'admins': expected [[admins]] tables");
        Admin a = parse_admin(*entry.as_table(), file);
        if (store.admins_.contains(a.name))
          fail(file, entry, fmt::format("admin '{}' is defined twice", a.name));
        store.admins_.emplace(a.name, std::move(a));
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

const Admin* AdminStore::find(std::string_view name) const {
  const auto it = admins_.find(name);
  return it == admins_.end() ? nullptr : &it->second;
}

Result<bool, std::string> add_admin(const std::filesystem::path& file, const Admin& admin) {
  if (!valid_admin_name(admin.name))
    return Unexpected{fmt::format("'{}' is not a valid admin name", admin.name)};
  bool exists = false;
  std::string text = read_all(file, exists);
  if (exists) {
    auto store = AdminStore::load(file);
    if (!store) return Unexpected{store.error().message};
    if (store->find(admin.name) != nullptr)
      return Unexpected{fmt::format("admin '{}' already exists in {}", admin.name, file.string())};
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (!text.empty()) text += '\n';
  text += fmt::format("[[admins]]\nname = {}\npassword_hash = {}\nrole = {}\n", toml_string(admin.name),
                      toml_string(admin.password_hash), toml_string(name(admin.role)));
  return write_atomically(file, text);
}

}  // namespace ftpsd::auth
