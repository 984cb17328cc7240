#include "admin/tokens.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace ftpsd::admin {

std::string random_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the random number generator failed");
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out += kHex[b >> 4U];
    out += kHex[b & 0x0fU];
  }
  return out;
}

TokenStore::Issued TokenStore::issue(TokenHolder holder, Clock::time_point now) {
  Issued issued{.token = random_token(), .expires = now + lifetime_};
  std::lock_guard lock(mutex_);
  drop_expired(now);
  if (tokens_.size() >= max_tokens_) {
    const auto oldest = std::min_element(tokens_.begin(), tokens_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    });
    tokens_.erase(oldest);
  }
  tokens_.insert_or_assign(issued.token, Entry{.holder = std::move(holder), .expires = issued.expires});
  return issued;
}

std::optional<TokenHolder> TokenStore::find(const std::string& token, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.holder;
}

std::optional<TokenStore::Clock::time_point> TokenStore::expires(const std::string& token,
                                                                 Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(token);
  if (it == tokens_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.expires;
}

void TokenStore::revoke(const std::string& token) {
  std::lock_guard lock(mutex_);
  tokens_.erase(token);
}

void TokenStore::revoke_holder(std::string_view name) {
  std::lock_guard lock(mutex_);
  std::erase_if(tokens_, [name](const auto& entry) { return entry.second.holder.name == name; });
}

std::size_t TokenStore::size() const {
  std::lock_guard lock(mutex_);
  return tokens_.size();
}

void TokenStore::drop_expired(Clock::time_point now) {
  std::erase_if(tokens_, [now](const auto& entry) { return entry.second.expires <= now; });
}

}  // namespace ftpsd::admin
