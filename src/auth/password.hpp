#pragma once
// crypt(3) through libxcrypt. Both functions are slow by design (that is the point of a password
// hash): call them on the blocking pool, never on an event-loop thread. Thread-safe.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ftpsd::auth {

// True if `password` matches `hash`. Compares in constant time; an unusable hash never matches.
[[nodiscard]] bool verify_password(std::string_view password, const std::string& hash);

// A new hash with libxcrypt's preferred method (yescrypt) and a random salt.
[[nodiscard]] Result<std::string, std::string> hash_password(std::string_view password);

// Burns about the time of one verification, so that an unknown user name takes as long as a wrong
// password (no user enumeration by timing).
void verify_dummy(std::string_view password);

}  // namespace ftpsd::auth
