#include "session/security_policy.hpp"

#include <fmt/format.h>

#include "config/names.hpp"

namespace ftpsd::session {

config::TlsRequired effective_tls_required(const config::Config& cfg, const auth::User* user) {
  if (user && user->tls_required) return *user->tls_required;
  return cfg.tls.required;
}

std::string tls_required_setting(const config::Config& cfg, const auth::User* user) {
  if (user && user->tls_required)
    return fmt::format("tls_required = \"{}\" (users file, user {})", config::name(*user->tls_required),
                       user->name);
  return fmt::format("tls.required = \"{}\"", config::name(cfg.tls.required));
}

namespace {

// The first [[tls.session_reuse_overrides]] entry whose networks contain `client`; nullptr if none.
const config::SessionReuseOverride* reuse_override(const config::Config& cfg,
                                                   const asio::ip::address& client) {
  for (const auto& o : cfg.tls.session_reuse_overrides)
    if (inet::any_contains(o.networks, client)) return &o;
  return nullptr;
}

}  // namespace

config::SessionReuse effective_session_reuse(const config::Config& cfg, const auth::User* user,
                                             const asio::ip::address& client) {
  if (user && user->tls_session_reuse) return *user->tls_session_reuse;
  if (const auto* o = reuse_override(cfg, client)) return o->session_reuse;
  return cfg.tls.session_reuse;
}

std::string session_reuse_setting(const config::Config& cfg, const auth::User* user,
                                  const asio::ip::address& client) {
  if (user && user->tls_session_reuse)
    return fmt::format("tls_session_reuse = \"{}\" (users file, user {})",
                       config::name(*user->tls_session_reuse), user->name);
  if (const auto* o = reuse_override(cfg, client)) {
    std::string networks;
    for (const auto& n : o->networks) networks += (networks.empty() ? "" : ", ") + n.to_string();
    return fmt::format("session_reuse = \"{}\" ([[tls.session_reuse_overrides]] for {})",
                       config::name(o->session_reuse), networks);
  }
  return fmt::format("tls.session_reuse = \"{}\"", config::name(cfg.tls.session_reuse));
}

}  // namespace ftpsd::session
