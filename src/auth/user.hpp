#pragma once
#include <filesystem>
#include <string>

namespace ftpsd::auth {

struct User {
  std::string name;
  std::string password_hash;  // crypt(3): yescrypt ($y$), bcrypt ($2b$), sha512-crypt ($6$)...
  std::filesystem::path root;
  bool write = false;
  bool anonymous = false;
};

}  // namespace ftpsd::auth
