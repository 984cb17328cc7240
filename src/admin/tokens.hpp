#pragma once
// The Manager's bearer tokens (and browser sessions, a store of their own): random, kept in memory only (a
// restart signs everyone out), each valid for a fixed time after it was issued. Thread-safe: the HTTP threads
// share one store.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/admin_store.hpp"

namespace ftpsd::admin {

struct TokenHolder {
  std::string name;
  auth::AdminRole role = auth::AdminRole::kViewer;
  // Browser sessions only: the token every state-changing request must carry in X-CSRF-Token.
  std::string csrf;
  // [cluster]: an account of the database, not of admin.users_file: asked again at each request (it may
  // have been deleted on another node).
  bool in_database = false;
};

// 64 hexadecimal digits: 32 bytes from the OpenSSL random generator.
[[nodiscard]] std::string random_token();

class TokenStore {
 public:
  using Clock = std::chrono::system_clock;
  explicit TokenStore(Clock::duration lifetime = std::chrono::hours(1), std::size_t max_tokens = 10000)
      : lifetime_(lifetime), max_tokens_(max_tokens) {}

  struct Issued {
    std::string token;  // 64 hexadecimal digits (32 bytes from the OpenSSL random generator)
    Clock::time_point expires;
  };
  // A new token for `holder`. Expired tokens are dropped; at max_tokens the oldest one goes.
  [[nodiscard]] Issued issue(TokenHolder holder, Clock::time_point now = Clock::now());
  // Who holds `token`, if it exists and has not expired.
  [[nodiscard]] std::optional<TokenHolder> find(const std::string& token,
                                                Clock::time_point now = Clock::now());
  // When `token` expires; nullopt when it is unknown or has expired.
  [[nodiscard]] std::optional<Clock::time_point> expires(const std::string& token,
                                                         Clock::time_point now = Clock::now()) const;
  // Signs out: the token is found no more.
  void revoke(const std::string& token);
  // Signs out every token of the account `name` (it was deleted).
  void revoke_holder(std::string_view name);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    TokenHolder holder;
    Clock::time_point expires;
  };
  void drop_expired(Clock::time_point now);

  const Clock::duration lifetime_;
  const std::size_t max_tokens_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> tokens_;
};

}  // namespace ftpsd::admin
