#pragma once
// The users table of the cluster database: one row per (domain, name), with the keys of a users file
// entry as columns. Blocking calls (see pg.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "auth/user.hpp"
#include "cluster/pg.hpp"

namespace ftpsd::cluster {

// nullopt: no such user in the domain.
[[nodiscard]] Result<std::optional<auth::User>, DbError> find_user(Connection& db, std::string_view domain,
                                                                   std::string_view name);
// A row with its version tag: its updated_at in microseconds since 1970 (every change sets it).
struct UserRow {
  auth::User user;
  std::string tag;
};
// nullopt: no such user. `lock`: SELECT ... FOR UPDATE (inside a transaction).
[[nodiscard]] Result<std::optional<UserRow>, DbError> find_user_row(Connection& db, std::string_view domain,
                                                                    std::string_view name, bool lock);
// The domain's rows, by name.
[[nodiscard]] Result<std::vector<UserRow>, DbError> list_user_rows(Connection& db, std::string_view domain);
// The version tag of the domain's rows together (an md5 of their names and tags): any change, a user
// added or removed changes it.
[[nodiscard]] Result<std::string, DbError> domain_tag(Connection& db, std::string_view domain);
// The domain's users, by name.
[[nodiscard]] Result<std::vector<auth::User>, DbError> list_users(Connection& db, std::string_view domain);

enum class Upsert : std::uint8_t { kAdded, kUpdated };
// Adds the user, or replaces every key of an existing one.
[[nodiscard]] Result<Upsert, DbError> put_user(Connection& db, std::string_view domain,
                                               const auth::User& user);
// Adds the user. false: the name exists in the domain (nothing changed).
[[nodiscard]] Result<bool, DbError> add_user(Connection& db, std::string_view domain, const auth::User& user);
// false: there was no such user.
[[nodiscard]] Result<bool, DbError> remove_user(Connection& db, std::string_view domain,
                                                std::string_view name);

}  // namespace ftpsd::cluster
