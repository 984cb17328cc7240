#pragma once
// Where password logins are checked when the users are not (only) in the users file: the cluster's
// database (cluster::DatabaseDirectory). The session asks through this interface so that it needs to
// know nothing of the database; without [cluster] there is no directory and the users file decides.
#include <memory>
#include <string_view>

#include "auth/user.hpp"

namespace ftpsd::auth {

enum class LoginOutcome : std::uint8_t {
  kOk,             // `user` is the account, its password verified
  kWrongPassword,  // the account exists; the password does not match
  kUnknownUser,    // no such account in the domain (the same time was spent as for a wrong password)
  kUnavailable,    // the directory cannot be asked now and has no usable record of this user
};

struct LoginCheck {
  LoginOutcome outcome = LoginOutcome::kUnavailable;
  std::shared_ptr<const User> user;  // set with kOk
};

class UserDirectory {
 public:
  UserDirectory() = default;
  UserDirectory(const UserDirectory&) = delete;
  UserDirectory& operator=(const UserDirectory&) = delete;
  UserDirectory(UserDirectory&&) = delete;
  UserDirectory& operator=(UserDirectory&&) = delete;
  virtual ~UserDirectory() = default;

  // Blocks (a database round trip and a crypt verification): call it on the blocking pool only.
  // Thread-safe.
  [[nodiscard]] virtual LoginCheck check_login(std::string_view domain, std::string_view name,
                                               std::string_view password) = 0;
  // The record of user `name` without a password check, for what is decided before PASS (a client
  // certificate login, the user's own tls_required): kOk with the user, kUnknownUser, or kUnavailable.
  // While the directory cannot be asked, the record of a login verified recently is used if there is
  // one. Blocks: the blocking pool only. Thread-safe.
  [[nodiscard]] virtual LoginCheck look_up(std::string_view domain, std::string_view name) = 0;
};

}  // namespace ftpsd::auth
