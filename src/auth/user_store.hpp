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
#include <span>
#include <string>
#include <string_view>

#include "auth/user.hpp"
#include "config/editor.hpp"
#include "config/loader.hpp"
#include "util/result.hpp"

namespace ftpsd::auth {

class UserStore {
 public:
  UserStore() = default;
  static Result<UserStore, config::ConfigError> load(const std::filesystem::path& file);
  // The users file's text as if read from `file` (relative roots are relative to its folder; errors
  // name it): what an edit is checked with before it is written.
  static Result<UserStore, config::ConfigError> parse(std::string_view text,
                                                      const std::filesystem::path& file);

  [[nodiscard]] std::optional<User> find(std::string_view name) const;
  [[nodiscard]] const std::map<std::string, User, std::less<>>& all() const noexcept { return users_; }

 private:
  std::map<std::string, User, std::less<>> users_;
};

// The user `name` of `store` without copying it: the pointer keeps the store alive. nullptr: unknown.
[[nodiscard]] std::shared_ptr<const User> share_user(const std::shared_ptr<const UserStore>& store,
                                                     std::string_view name);

// Letters, digits, _ - . @; 1 to 128 bytes.
[[nodiscard]] bool valid_user_name(std::string_view name);

// Edits of the users file's text, shared by `ftpsd user add|remove` and the Manager: only the lines of
// the entry concerned change (config::append_table, config::remove_table, config::edit_toml).
// The position of user `name` among the [[users]] entries of `text`; nullopt: none (or not TOML).
[[nodiscard]] std::optional<std::size_t> user_entry_index(std::string_view text, std::string_view name);
// `text` with a new [[users]] entry of `keys` (name, password_hash, root, ... as TOML values) at its end.
[[nodiscard]] Result<std::string, std::string> text_with_user(std::string_view text,
                                                              std::span<const config::KeyEdit> keys);
// `text` without user `name`'s entry. Error: there is no such user.
[[nodiscard]] Result<std::string, std::string> text_without_user(std::string_view text,
                                                                 std::string_view name);

// A whole users file holding `users` with every key they set (roots as they are: give absolute ones),
// after `comment` (lines prefixed with "# "). UserStore::parse reads it back to the same users.
[[nodiscard]] std::string users_file_text(std::span<const User> users, std::string_view comment);

// `ftpsd user add|remove`: the file is rewritten through a temporary file and rename, so a crash never
// leaves half a file.
[[nodiscard]] Result<bool, std::string> add_user(const std::filesystem::path& file, const User& user);
[[nodiscard]] Result<bool, std::string> remove_user(const std::filesystem::path& file, std::string_view name);

}  // namespace ftpsd::auth
