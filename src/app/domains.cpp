#include "app/domains.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "net/passive_host_resolver.hpp"

namespace ftpsd::app {
namespace {

bool same_range(const std::optional<config::PortRange>& a, const std::optional<config::PortRange>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->first == b->first && a->last == b->last);
}

// The pool of `name` in the running snapshot, if its range is still `range`.
std::shared_ptr<net::PassivePortPool> kept_pool(const session::Snapshot* previous, std::string_view name,
                                                const std::optional<config::PortRange>& range) {
  if (previous == nullptr) return nullptr;
  const auto domain = previous->by_name(name);
  if (domain == nullptr || !same_range(domain->config->passive.ports, range)) return nullptr;
  return domain->ports;
}

// A new pool for `range` replaces every pool of the running snapshot: a port one of them still holds (a
// running session of the previous configuration listens on it) is not handed out twice.
std::shared_ptr<net::PassivePortPool> new_pool(const session::Snapshot* previous,
                                               const std::optional<config::PortRange>& range) {
  std::vector<std::weak_ptr<const net::PassivePortPool>> replaced;
  std::vector<const net::PassivePortPool*> seen;
  if (previous != nullptr && range) {
    for (const auto& d : previous->domains) {
      if (!d->ports || !d->ports->ranged() ||
          std::find(seen.begin(), seen.end(), d->ports.get()) != seen.end())
        continue;
      seen.push_back(d->ports.get());
      replaced.emplace_back(d->ports);
    }
  }
  return std::make_shared<net::PassivePortPool>(range, std::move(replaced));
}

// Each users file once, however many domains share it.
class UsersFiles {
 public:
  Result<std::shared_ptr<const auth::UserStore>, std::string> get(const std::filesystem::path& file) {
    if (auto it = loaded_.find(file); it != loaded_.end()) return it->second;
    auto store = std::make_shared<auth::UserStore>();
    if (!file.empty()) {
      auto read = auth::UserStore::load(file);
      if (!read) return Unexpected{read.error().message};
      *store = std::move(*read);
    }
    loaded_.emplace(file, store);
    return std::shared_ptr<const auth::UserStore>(std::move(store));
  }

 private:
  std::map<std::filesystem::path, std::shared_ptr<const auth::UserStore>> loaded_;
};

}  // namespace

Result<BuiltDomains, std::string> build_domains(const std::shared_ptr<const config::Config>& config,
                                                const std::shared_ptr<tls::ContextStore>& default_tls,
                                                const session::Snapshot* previous) {
  BuiltDomains out;
  UsersFiles users;
  std::vector<config::DomainConfig> all{config->default_domain()};
  all.insert(all.end(), config->domains.begin(), config->domains.end());
  for (const auto& d : all) {
    auto domain = std::make_shared<session::Domain>();
    domain->name = d.name;
    domain->hosts = d.hosts;
    // The default's view is the whole configuration; a domain's is the top level with its sections.
    domain->config =
        out.domains.empty() ? config : std::make_shared<const config::Config>(config->for_domain(d));
    auto store = users.get(d.users.file);
    if (!store) return Unexpected{fmt::format("domain {}: {}", d.name, store.error())};
    domain->users = std::move(*store);
    auto policy = std::make_shared<net::PassiveAddressPolicy>(d.passive);
    net::resolve_now(*policy);
    domain->passive_policy = policy;
    out.policies.push_back(std::move(policy));
    if (out.domains.empty() || d.own_ports) {
      domain->ports = kept_pool(previous, d.name, d.passive.ports);
      if (!domain->ports) domain->ports = new_pool(previous, d.passive.ports);
    } else {
      domain->ports = out.domains.front()->ports;  // the default's range, the default's pool
    }
    if (out.domains.empty() || !d.own_certificate) {
      domain->tls = default_tls;
    } else {
      // Its own store: what listeners tied to it hand out, and what the certificate watch reloads.
      auto own = std::make_shared<tls::ContextStore>(d.tls);
      if (auto loaded = own->reload(); !loaded)
        return Unexpected{fmt::format("domain {}: TLS: {}", d.name, loaded.error())};
      domain->tls = std::move(own);
    }
    out.domains.push_back(std::move(domain));
  }
  return out;
}

}  // namespace ftpsd::app
