#include "auth/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace ftpsd::auth {

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash.empty() || hash[0] == '*' || hash[0] == '!') return false;  // locked account conventions
  auto data = std::make_unique<crypt_data>();
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  if (out == nullptr || out[0] == '*') return false;
  const std::string_view computed(out);
  return computed.size() == hash.size() && CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

Result<std::string, std::string> hash_password(std::string_view password) {
  auto data = std::make_unique<crypt_data>();
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(nullptr, 0, nullptr, 0, salt, sizeof salt) == nullptr)
    return Unexpected{std::string("crypt_gensalt failed")};
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), salt, data.get());
  if (out == nullptr || out[0] == '*') return Unexpected{std::string("crypt failed")};
  return std::string(out);
}

void verify_dummy(std::string_view password) {
  // A fixed yescrypt hash of a random string with the default cost.
  static const std::string kDummy = [] {
    auto h = hash_password("ftpsd-dummy-password");
    return h ? *h : std::string();
  }();
  (void)verify_password(password, kDummy);
}

}  // namespace ftpsd::auth
