#pragma once
// Decides the address a passive reply (227) advertises to a client. The one place for that decision.
#include <string>

#include "config/config.hpp"

namespace ftpsd::net {

class PassiveAddressPolicy {
 public:
  explicit PassiveAddressPolicy(const config::PassiveConfig& cfg) : fixed_(cfg.address) {}

  // `client` is the control peer, `local` the control connection's local address (canonical text).
  [[nodiscard]] std::string advertised(const std::string& client, const std::string& local) const {
    (void)client;
    return fixed_.empty() ? local : fixed_;
  }

 private:
  std::string fixed_;
};

}  // namespace ftpsd::net
