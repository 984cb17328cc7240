#include "session/security_policy.hpp"

namespace ftpsd::session {

config::TlsRequired effective_tls_required(const config::Config& cfg, const auth::User* user) {
  if (user && user->tls_required) return *user->tls_required;
  return cfg.tls.required;
}

config::SessionReuse effective_session_reuse(const config::Config& cfg, const auth::User* user,
                                             const asio::ip::address& client) {
  if (user && user->tls_session_reuse) return *user->tls_session_reuse;
  for (const auto& o : cfg.tls.session_reuse_overrides)
    if (inet::any_contains(o.networks, client)) return o.session_reuse;
  return cfg.tls.session_reuse;
}

}  // namespace ftpsd::session
