#pragma once
// The admins file of the Manager (admin.users_file, TOML):
//   [[admins]]
//   name = "root"
//   password_hash = "$y$..."   # crypt(3), as in the users file
//   role = "admin"             # "admin" | "operator" | "viewer"
// Loaded whole at start; `ftpsd admin add` appends to it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "util/result.hpp"

namespace ftpsd::auth {

// What an account of the Manager may do; each role may do what the roles below it may.
enum class AdminRole : std::uint8_t {
  kViewer,    // reads
  kOperator,  // also ends sessions
  kAdmin,     // everything
};

[[nodiscard]] std::string_view name(AdminRole role) noexcept;
[[nodiscard]] std::optional<AdminRole> parse_admin_role(std::string_view text) noexcept;
// Letters, digits, _ - . @; 1 to 64 bytes.
[[nodiscard]] bool valid_admin_name(std::string_view name);

struct Admin {
  std::string name;
  std::string password_hash;
  AdminRole role = AdminRole::kViewer;
};

class AdminStore {
 public:
  AdminStore() = default;
  // Errors: "FILE:LINE: key 'admins.role': ...", like the users file's.
  static Result<AdminStore, config::ConfigError> load(const std::filesystem::path& file);

  [[nodiscard]] const Admin* find(std::string_view name) const;
  [[nodiscard]] const std::map<std::string, Admin, std::less<>>& all() const noexcept { return admins_; }

 private:
  std::map<std::string, Admin, std::less<>> admins_;
};

// Appends `admin` to the admins file (created when missing). Error: a bad name, a name already there,
// a file that does not load or cannot be written.
[[nodiscard]] Result<bool, std::string> add_admin(const std::filesystem::path& file, const Admin& admin);

}  // namespace ftpsd::auth
