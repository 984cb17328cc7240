#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace ftpsd::auth {

struct User {
  std::string name;
  std::string password_hash;  // crypt(3): yescrypt ($y$), bcrypt ($2b$), sha512-crypt ($6$)...
  std::filesystem::path root;
  bool write = false;
  bool anonymous = false;
  bool enabled = true;  // false: the password is still checked, then the login is refused (530)
  std::optional<config::TlsRequired> tls_required;        // overrides tls.required for this user
  std::optional<config::SessionReuse> tls_session_reuse;  // overrides tls.session_reuse for this user
  std::optional<std::size_t>
      max_sessions;                 // sessions of this user at once; overrides server.max_sessions_per_user
  std::uint64_t download_rate = 0;  // bytes/s per session; 0: only the global limit
  std::uint64_t upload_rate = 0;
  std::string certificate_name;  // the client certificate CN or SAN that is this user; empty: the user name
};

}  // namespace ftpsd::auth
