#pragma once
// The data connection of one transfer: PASV/EPSV (listen on a pooled port) or PORT/EPRT (connect to
// the client). One per session, used only on the session's event loop.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "inet/ip_network.hpp"
#include "net/passive_port_pool.hpp"
#include "runtime/asio.hpp"
#include "tls/stream.hpp"
#include "util/duration.hpp"
#include "util/result.hpp"

namespace ftpsd::session {

using asio::ip::tcp;

enum class DataError : std::uint8_t {
  kNoPassivePort,  // the passive range is exhausted
  kBindFailed,     // the kernel refused every port tried
  kNotPrepared,    // no PASV/EPSV/PORT/EPRT before the transfer
  kTimeout,        // nobody connected, or the client's port did not answer, in time
  kConnectFailed,  // active mode: the client refused the connection
  kAborted,        // ABOR or session end
};

// The data-connection settings of a session, taken from its configuration snapshot.
struct DataChannelOptions {
  bool require_same_peer = true;               // passive.require_same_peer
  std::uint16_t active_source_port = 0;        // active.source_port; 0: any
  bool wait_when_exhausted = false;            // passive.on_exhausted = "wait"
  Duration exhausted_wait{};                   // passive.exhausted_wait
  bool proxy_protocol = false;                 // the listener speaks PROXY protocol...
  std::vector<inet::IpNetwork> proxy_trusted;  // ...and data connections from these carry a header too

  [[nodiscard]] static DataChannelOptions from(const config::Config& cfg,
                                               const config::ListenerConfig& listener);
};

// The connections to a passive port that one open() refused (the same-peer check) while it waited
// for the client.
struct RefusedPeers {
  std::uint64_t count = 0;
  std::optional<asio::ip::address> last;  // the last one's address (unknown: a bad PROXY header)
  asio::ip::address control_peer;         // the address they were compared with
};

// Why a data connection failed and what fixes it, for the log (the client gets the bland reply).
// `refused`: what the passive port refused meanwhile; a timeout after a refusal is explained by it.
struct DataFailure {
  std::string cause;
  std::string fix;
};
[[nodiscard]] DataFailure explain(DataError e, bool passive, const RefusedPeers& refused = {});

class DataChannel {
 public:
  DataChannel(asio::any_io_executor executor, net::PassivePortPool& ports,
              const asio::ip::address& control_peer, asio::ip::address control_local,
              DataChannelOptions options = {});

  // Binds a passive listener on the control connection's local address and returns its port. With
  // wait_when_exhausted, waits up to exhausted_wait for a port of an exhausted range.
  Task<Result<std::uint16_t, DataError>> listen_passive();
  // Called with the address of each refused foreign data connection (the ban count of that address).
  void on_foreign_peer(std::function<void(const asio::ip::address&)> hook) {
    foreign_hook_ = std::move(hook);
  }
  // Another domain's port pool and settings (HOST, SNI or user@host chose it); only while unprepared.
  void reconfigure(net::PassivePortPool& ports, DataChannelOptions options) {
    ports_ = &ports;
    options_ = std::move(options);
  }
  // Active mode: the next transfer connects to `target` (checked by the caller: the control peer).
  void set_active(const tcp::endpoint& target);

  [[nodiscard]] bool prepared() const noexcept { return acceptor_.has_value() || active_target_.has_value(); }
  [[nodiscard]] bool passive() const noexcept { return acceptor_.has_value(); }

  // Accepts (passive) or connects (active) within `timeout`. SECURITY: a passive connection from any
  // address but the control peer's is closed and logged, and the wait goes on for the real client
  // (unless require_same_peer is off). A connection from a trusted proxy must start with a PROXY
  // header, whose source address is the one checked.
  // Either way the channel is unprepared afterwards: one PASV/PORT, one transfer.
  Task<Result<tls::Stream, DataError>> open(Duration timeout);

  // ABOR or session end: ends a pending accept/connect and frees the passive port.
  void abort() noexcept;
  // Forgets a prepared channel (e.g. a new PASV replaces the previous one).
  void reset() noexcept;

  // The connections the last open() refused.
  [[nodiscard]] const RefusedPeers& refused_by_last_open() const noexcept { return refused_; }
  [[nodiscard]] const DataChannelOptions& options() const noexcept { return options_; }

 private:
  [[nodiscard]] Result<std::uint16_t, DataError> try_listen();
  Task<bool> wait_for_port(Duration limit);
  // The data peer as the same-peer check sees it: the PROXY header's source for a trusted proxy.
  Task<std::optional<asio::ip::address>> data_peer(tcp::socket& socket,
                                                   std::chrono::steady_clock::time_point deadline) const;
  Task<Result<tls::Stream, DataError>> accept(Duration timeout);
  Task<Result<tls::Stream, DataError>> connect(Duration timeout);

  asio::any_io_executor executor_;
  net::PassivePortPool* ports_;
  asio::ip::address control_peer_;
  asio::ip::address control_local_;
  std::optional<tcp::acceptor> acceptor_;
  net::PortLease lease_;
  std::optional<tcp::endpoint> active_target_;
  std::optional<tcp::socket> connecting_;
  RefusedPeers refused_;
  std::function<void(const asio::ip::address&)> foreign_hook_;
  DataChannelOptions options_;
};

// Canonical form for comparing peers: IPv4-mapped IPv6 addresses become IPv4.
[[nodiscard]] asio::ip::address normalize(const asio::ip::address& a);

}  // namespace ftpsd::session
