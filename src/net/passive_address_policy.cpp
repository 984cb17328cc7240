#include "net/passive_address_policy.hpp"

namespace ftpsd::net {

PassiveAddressPolicy::PassiveAddressPolicy(const config::PassiveConfig& cfg)
    : ports_(cfg.ports), advertised_ports_(cfg.advertised_ports) {
  for (const auto& o : cfg.address_overrides) {
    Override entry{o.networks, std::nullopt};
    std::error_code ec;
    if (o.address != "local") {
      entry.address = inet::unmap(asio::ip::make_address(o.address, ec));
      if (ec) continue;  // the loader refuses this; never advertise garbage
    }
    overrides_.push_back(std::move(entry));
  }
  if (!cfg.address.empty()) {
    std::error_code ec;
    const auto ip = asio::ip::make_address(cfg.address, ec);
    if (ec) {
      host_ = cfg.address;
    } else {
      fixed_ = inet::unmap(ip);
    }
  }
}

PassiveChoice PassiveAddressPolicy::choose(const asio::ip::address& client,
                                           const asio::ip::address& local) const {
  for (const auto& o : overrides_) {
    if (!inet::any_contains(o.networks, client)) continue;
    if (o.address) return {*o.address, PassiveSource::kOverride};
    return {local, PassiveSource::kOverrideLocal};
  }
  if (fixed_) return {*fixed_, PassiveSource::kConfigured};
  if (!host_.empty()) {
    if (auto r = resolved()) return {*r, PassiveSource::kResolved};
    return {local, PassiveSource::kUnresolved};
  }
  return {local, PassiveSource::kLocal};
}

std::uint16_t PassiveAddressPolicy::advertised_port(std::uint16_t bound) const noexcept {
  if (!ports_ || !advertised_ports_ || !ports_->contains(bound)) return bound;
  return static_cast<std::uint16_t>(advertised_ports_->first + (bound - ports_->first));
}

bool PassiveAddressPolicy::update_resolved(const asio::ip::address_v4& address) noexcept {
  return resolved_.exchange(address.to_uint(), std::memory_order_acq_rel) != address.to_uint();
}

std::optional<asio::ip::address_v4> PassiveAddressPolicy::resolved() const noexcept {
  const auto v = resolved_.load(std::memory_order_acquire);
  if (v == 0) return std::nullopt;
  return asio::ip::address_v4(v);
}

std::string_view describe(PassiveSource s) noexcept {
  switch (s) {
    case PassiveSource::kOverride:
      return "address override";
    case PassiveSource::kOverrideLocal:
      return "address override \"local\"";
    case PassiveSource::kConfigured:
      return "passive.address";
    case PassiveSource::kResolved:
      return "passive.address (resolved host name)";
    case PassiveSource::kUnresolved:
      return "local address (passive.address host name not resolved yet)";
    case PassiveSource::kLocal:
      return "local address (passive.address is empty)";
  }
  return "?";
}

}  // namespace ftpsd::net
