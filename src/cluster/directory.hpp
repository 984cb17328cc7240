#pragma once
// [cluster]: password logins checked against the users table, with the cache that serves them while
// the database is unreachable (README "Running a cluster").
//
// One connection, used under a mutex by the blocking pool's threads (a login is one short SELECT;
// the crypt verification runs outside the mutex). A lost connection is opened again by the next
// login that needs it, at most once a second while the database stays away; each change between
// reachable and unreachable is logged once. Every (re)connection checks the schema (migrate()).
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "auth/user_directory.hpp"
#include "cluster/pg.hpp"
#include "cluster/user_cache.hpp"

namespace ftpsd::cluster {

class DatabaseDirectory final : public auth::UserDirectory {
 public:
  DatabaseDirectory(config::ClusterConfig cluster, std::string password);

  // At start: connects and brings the schema up to date. Error only for what a restart must fix (the
  // schema is newer than this binary); an unreachable database is logged and retried by logins.
  [[nodiscard]] Result<bool, std::string> start();

  [[nodiscard]] auth::LoginCheck check_login(std::string_view domain, std::string_view name,
                                             std::string_view password) override;
  [[nodiscard]] auth::LoginCheck look_up(std::string_view domain, std::string_view name) override;

 private:
  enum class State : std::uint8_t { kUnknown, kUp, kDown };
  struct Unreachable {};
  // The user's row; nullopt inside: no such user; Unreachable: the database could not answer.
  Result<std::optional<auth::User>, Unreachable> fetch(std::string_view domain, std::string_view name);
  bool connect(bool force);                // under mutex_
  void went_down(const std::string& why);  // under mutex_
  void came_up(int schema_version);        // under mutex_

  config::ClusterConfig cluster_;
  std::string password_;
  UserCache cache_;
  std::mutex mutex_;
  std::optional<Connection> db_;                          // under mutex_
  State state_ = State::kUnknown;                         // under mutex_
  std::chrono::steady_clock::time_point last_attempt_{};  // under mutex_
  bool schema_too_new_ = false;                           // under mutex_
};

}  // namespace ftpsd::cluster
