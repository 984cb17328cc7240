#pragma once
// [cluster]: the users and the Manager's admin accounts as the Manager reads and changes them in the
// cluster's database (cluster::AccountDatabase implements this). The Manager asks through this
// interface so that it needs to know nothing of PostgreSQL.
//
// Every call blocks (a database round trip): call it on an HTTP thread or the blocking pool, never on
// an event loop. Thread-safe.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/admin_store.hpp"
#include "auth/user.hpp"
#include "util/result.hpp"

namespace ftpsd::auth {

// The database could not answer (unreachable, or it refused the statement): the reason, for a 503.
struct AccountDbError {
  std::string message;
};

// A user and the version tag of its row (it changes with every change of the row): an ETag.
struct TaggedUser {
  User user;
  std::string tag;
};

// A domain's users by name, and the version tag of all of them together (any change of any row, an
// added or a removed user changes it).
struct TaggedUsers {
  std::vector<User> users;
  std::string tag;
};

enum class UserChange : std::uint8_t { kAdd, kChange, kRemove };

struct UserChangeResult {
  enum class Outcome : std::uint8_t {
    kDone,
    kExists,       // kAdd: the name is taken in the domain
    kMissing,      // kChange, kRemove: no such user
    kTagMismatch,  // if_match is neither the row's tag nor the domain's
  };
  Outcome outcome = Outcome::kDone;
  std::optional<User> before;  // the row as it was (kChange, kRemove)
  std::optional<User> after;   // the row as written (kAdd, kChange)
  std::string tag;             // the row's new tag (kAdd, kChange)
};

// An admin account of the Manager kept in the database.
struct StoredAdmin {
  Admin admin;
  std::string created;     // ISO 8601, UTC
  std::string created_by;  // the admin who made it
};

class AccountDatabase {
 public:
  AccountDatabase() = default;
  AccountDatabase(const AccountDatabase&) = delete;
  AccountDatabase& operator=(const AccountDatabase&) = delete;
  AccountDatabase(AccountDatabase&&) = delete;
  AccountDatabase& operator=(AccountDatabase&&) = delete;
  virtual ~AccountDatabase() = default;

  // --- users

  [[nodiscard]] virtual Result<TaggedUsers, AccountDbError> list_users(std::string_view domain) = 0;
  // nullopt: no such user.
  [[nodiscard]] virtual Result<std::optional<TaggedUser>, AccountDbError> find_user(
      std::string_view domain, std::string_view name) = 0;
  // One change of user `name`, in one transaction: `edit` gets the row as it is (nullopt for kAdd) and
  // returns the row to write (not called for kRemove, nor when the outcome is not kDone). `if_match`,
  // when given, must be the row's tag or the domain's (TaggedUsers::tag), else nothing changes.
  [[nodiscard]] virtual Result<UserChangeResult, AccountDbError> change_user(
      std::string_view domain, std::string_view name, UserChange kind,
      const std::optional<std::string>& if_match,
      const std::function<User(const std::optional<User>& existing)>& edit) = 0;
  // Asks the other nodes that are up to end the sessions of user `name` of `domain` (they do at their
  // next heartbeat). Returns how many sessions were asked to end.
  [[nodiscard]] virtual Result<std::size_t, AccountDbError> end_sessions_elsewhere(std::string_view domain,
                                                                                   std::string_view name) = 0;

  // --- the Manager's admin accounts (those of admin.users_file are not here)

  [[nodiscard]] virtual Result<std::vector<StoredAdmin>, AccountDbError> list_admins() = 0;
  // nullopt: no such account.
  [[nodiscard]] virtual Result<std::optional<Admin>, AccountDbError> find_admin(std::string_view name) = 0;
  // false: the name is taken (nothing changed).
  [[nodiscard]] virtual Result<bool, AccountDbError> add_admin(const Admin& admin,
                                                               std::string_view created_by) = 0;
  // false: there was no such account.
  [[nodiscard]] virtual Result<bool, AccountDbError> remove_admin(std::string_view name) = 0;
};

}  // namespace ftpsd::auth
