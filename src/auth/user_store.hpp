#pragma once
// The users file (TOML):
//   [[users]]
//   name = "alice"
//   password_hash = "$y$..."
//   root = "/srv/ftp/alice"
//   write = true
// Loaded whole into an immutable snapshot; lookups are lock-free reads of that snapshot.
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "auth/user.hpp"
#include "config/loader.hpp"
#include "util/result.hpp"

namespace ftpsd::auth {

class UserStore {
 public:
  UserStore() = default;
  static Result<UserStore, config::ConfigError> load(const std::filesystem::path& file);

  [[nodiscard]] std::optional<User> find(std::string_view name) const;
  [[nodiscard]] const std::map<std::string, User, std::less<>>& all() const noexcept { return users_; }

 private:
  std::map<std::string, User, std::less<>> users_;
};

// Edits of the users file for `ftpsd user add|remove`: the file is rewritten through a temporary
// file and rename, so a crash never leaves half a file.
// The user `name` of `store` without copying it: the pointer keeps the store alive. nullptr: unknown.
[[nodiscard]] std::shared_ptr<const User> share_user(const std::shared_ptr<const UserStore>& store,
                                                     std::string_view name);

[[nodiscard]] Result<bool, std::string> add_user(const std::filesystem::path& file, const User& user);
[[nodiscard]] Result<bool, std::string> remove_user(const std::filesystem::path& file, std::string_view name);

}  // namespace ftpsd::auth
