#pragma once
// [cluster]: auth::AccountDatabase on the cluster's PostgreSQL: the users table as the Manager reads and
// changes it, the requests to other nodes to end a user's sessions (session_ends), and the Manager's
// admin accounts (admins).
//
// One connection of its own, used under a mutex by the Manager's HTTP threads; opened at the first
// call, and once again at once when a call finds it lost (the server restarted). The database being
// unreachable is each call's error (the Manager answers 503); nothing is retried in the background.
#include <mutex>
#include <optional>
#include <string>

#include "auth/account_database.hpp"
#include "cluster/pg.hpp"

namespace ftpsd::cluster {

class AccountDatabase final : public auth::AccountDatabase {
 public:
  AccountDatabase(config::ClusterConfig cluster, std::string password);

  [[nodiscard]] Result<auth::TaggedUsers, auth::AccountDbError> list_users(std::string_view domain) override;
  [[nodiscard]] Result<std::optional<auth::TaggedUser>, auth::AccountDbError> find_user(
      std::string_view domain, std::string_view name) override;
  [[nodiscard]] Result<auth::UserChangeResult, auth::AccountDbError> change_user(
      std::string_view domain, std::string_view name, auth::UserChange kind,
      const std::optional<std::string>& if_match,
      const std::function<auth::User(const std::optional<auth::User>& existing)>& edit) override;
  [[nodiscard]] Result<std::size_t, auth::AccountDbError> end_sessions_elsewhere(
      std::string_view domain, std::string_view name) override;

  [[nodiscard]] Result<std::vector<auth::StoredAdmin>, auth::AccountDbError> list_admins() override;
  [[nodiscard]] Result<std::optional<auth::Admin>, auth::AccountDbError> find_admin(
      std::string_view name) override;
  [[nodiscard]] Result<bool, auth::AccountDbError> add_admin(const auth::Admin& admin,
                                                             std::string_view created_by) override;
  [[nodiscard]] Result<bool, auth::AccountDbError> remove_admin(std::string_view name) override;

 private:
  // Runs `work` on the connection (opened if needed) under the mutex; once more on a new connection
  // when the first attempt found the connection lost.
  template <typename T>
  Result<T, auth::AccountDbError> with_db(const std::function<Result<T, DbError>(Connection&)>& work);

  config::ClusterConfig cluster_;
  std::string password_;
  std::mutex mutex_;
  std::optional<Connection> db_;  // under mutex_
};

}  // namespace ftpsd::cluster
