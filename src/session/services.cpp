#include "session/services.hpp"

#include <algorithm>
#include <cctype>

namespace ftpsd::session {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::shared_ptr<const Domain> Snapshot::by_name(std::string_view name) const {
  for (const auto& d : domains)
    if (d->name == name) return d;
  return nullptr;
}

std::shared_ptr<const Domain> Snapshot::by_host(std::string_view host) const {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "ftp.example.com." is the same name
  for (const auto& d : domains)
    for (const auto& h : d->hosts)
      if (same_name(h, host)) return d;
  return nullptr;
}

DomainState& Services::domain_state(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = domain_states_.find(name);
  if (it == domain_states_.end())
    it = domain_states_.emplace(std::string(name), std::make_unique<DomainState>()).first;
  return *it->second;
}

std::vector<std::pair<std::string, const DomainState*>> Services::domain_states() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, const DomainState*>> out;
  out.reserve(domain_states_.size());
  for (const auto& [name, state] : domain_states_) out.emplace_back(name, state.get());
  return out;
}

}  // namespace ftpsd::session
