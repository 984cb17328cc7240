#pragma once
// The domains of a configuration as the sessions use them (session::Domain): each one's users, passive
// address policy and port pool, and certificate store. Built at start and on every reload.
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "net/passive_address_policy.hpp"
#include "session/services.hpp"
#include "tls/context.hpp"
#include "util/result.hpp"

namespace ftpsd::app {

struct BuiltDomains {
  std::vector<std::shared_ptr<const session::Domain>> domains;  // [0]: "default"
  // Each domain's policy (same order), writable for its resolver (net::keep_resolved), resolved once.
  std::vector<std::shared_ptr<net::PassiveAddressPolicy>> policies;
};

// Blocking (users files, certificates, a DNS lookup per passive host name): at start, or on the worker
// pool. `default_tls`: the store of the default's certificate, which also serves every domain's
// certificate to its hosts by SNI (config::Config::served_tls); null without TLS. `previous`: the
// running snapshot on reload, whose port pools are kept for the domains whose passive.ports did not
// change (their ports in use stay counted). Errors name the file and the reason.
[[nodiscard]] Result<BuiltDomains, std::string> build_domains(
    const std::shared_ptr<const config::Config>& config,
    const std::shared_ptr<tls::ContextStore>& default_tls, const session::Snapshot* previous);

}  // namespace ftpsd::app
