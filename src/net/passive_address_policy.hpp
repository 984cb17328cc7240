#pragma once
// What a passive reply advertises to a client: the address in 227 and the port in 227/229. The one
// place for that decision (DESIGN.md "one place per decision"). Pure apart from the resolved host
// name, which PassiveHostResolver updates from a worker thread.
//
// For a client the address is, in order:
//   1. the first [[passive.address_overrides]] entry whose networks contain the client: its IP, or
//      the control connection's local address for "local" (LAN clients reaching the server directly);
//   2. passive.address: an IP, or the last good IPv4 address of a host name (re-resolved every
//      passive.resolve_every);
//   3. the control connection's local address (no NAT in between, or a host name not yet resolved).
// The port is the bound port, translated into passive.advertised_ports when the router maps external
// ports onto different internal ones.
//
// Thread safety: every const member may be called from any thread at any time.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "inet/ip_network.hpp"
#include "runtime/asio.hpp"

namespace ftpsd::net {

enum class PassiveSource : std::uint8_t {
  kOverride,       // an address override matched the client
  kOverrideLocal,  // an override with address = "local" matched
  kConfigured,     // passive.address is an IP
  kResolved,       // passive.address is a host name, resolved
  kUnresolved,     // passive.address is a host name never resolved so far: fell back to local
  kLocal,          // no passive.address: the control connection's local address
};

struct PassiveChoice {
  asio::ip::address address;
  PassiveSource source;
};

class PassiveAddressPolicy {
 public:
  explicit PassiveAddressPolicy(const config::PassiveConfig& cfg);

  // `client` is the control peer (after PROXY protocol), `local` the control connection's local address.
  [[nodiscard]] PassiveChoice choose(const asio::ip::address& client, const asio::ip::address& local) const;
  [[nodiscard]] asio::ip::address advertised(const asio::ip::address& client,
                                             const asio::ip::address& local) const {
    return choose(client, local).address;
  }
  // The port a 227/229 reply carries for a listener bound on `bound`.
  [[nodiscard]] std::uint16_t advertised_port(std::uint16_t bound) const noexcept;

  // The host name in passive.address, or empty when it is an IP address (or empty).
  [[nodiscard]] const std::string& host_name() const noexcept { return host_; }
  // Publishes a new lookup result (any thread). Returns true if the address changed.
  bool update_resolved(const asio::ip::address_v4& address) noexcept;
  [[nodiscard]] std::optional<asio::ip::address_v4> resolved() const noexcept;

 private:
  struct Override {
    std::vector<inet::IpNetwork> networks;
    std::optional<asio::ip::address> address;  // nullopt: "local"
  };
  std::vector<Override> overrides_;
  std::optional<asio::ip::address> fixed_;
  std::string host_;
  std::atomic<std::uint32_t> resolved_{0};  // IPv4 in host order; 0: never resolved
  std::optional<config::PortRange> ports_;
  std::optional<config::PortRange> advertised_ports_;
};

[[nodiscard]] std::string_view describe(PassiveSource s) noexcept;

}  // namespace ftpsd::net
