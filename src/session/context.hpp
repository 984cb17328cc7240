#pragma once
// What a command handler sees of its session: state, control and data channels, shared services.
// Handlers are free functions `Task<Reply> handle_x(SessionContext&, const Command&)`.
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "protocol/command.hpp"
#include "protocol/reply.hpp"
#include "session/control_channel.hpp"
#include "session/data_channel.hpp"
#include "session/data_link.hpp"
#include "session/error_mapping.hpp"
#include "session/registry.hpp"
#include "session/services.hpp"
#include "session/session_state.hpp"
#include "session/transfer.hpp"
#include "session/transfer_slot.hpp"
#include "tls/binding.hpp"

namespace ftpsd::session {

using protocol::Reply;
using protocol::ReplyCode;

// Why the server ends a session on its own (Watchdog, end_session); the control loop sends the matching
// 421. kNotReading: a reply has waited server.data_timeout for the client to read it (no 421 can reach
// it). kAdmin: an administrator ended it (SessionRegistry::end).
enum class EndReason : std::uint8_t { kNone, kLoginTimeout, kIdleTimeout, kStopping, kNotReading, kAdmin };

// How a session's domain was chosen (README "Domains"), in the order they take precedence: a listener
// tied to a domain, the TLS server name (SNI), HOST, a user@host login name; kNone: the default, so far.
enum class DomainChoice : std::uint8_t { kNone, kListener, kSni, kHost, kUserName };
[[nodiscard]] std::string_view describe(DomainChoice how) noexcept;

class SessionContext {
 public:
  // `client`: the address from a PROXY protocol header, which replaces the socket's peer everywhere
  // (logs, address overrides, PORT checks, the same-peer check of data connections).
  // `transport`: the control connection, which outlives the context.
  SessionContext(Services& svc, Snapshot snap, std::uint64_t session_id, ControlTransport& transport,
                 const config::ListenerConfig& listener_cfg,
                 std::optional<asio::ip::address> client = std::nullopt);

  Services& services;
  const Snapshot snapshot;  // configuration, domains, users, passive settings at the start
  // The session's domain: the listener's (or the default) at first; HOST, SNI or user@host may choose
  // another before login (enter_domain). Null when the listener's domain was removed by a reload.
  std::shared_ptr<const Domain> domain;
  DomainChoice domain_choice = DomainChoice::kNone;
  DomainState* domain_state;                     // services.domain_state(domain's name)
  std::shared_ptr<const config::Config> config;  // domain->config: the domain's view of the configuration
  const config::ListenerConfig listener;
  const std::uint64_t id;
  const asio::ip::address peer;   // the control peer (normalized)
  const asio::ip::address local;  // the control connection's local address
  SessionState state;
  // TLS: the context snapshot this session uses for its control and data connections, and the session
  // id context that ties data connections to this control connection's TLS session.
  tls::SessionBinding tls;
  obs::SessionGauge gauge;  // ftpsd_sessions{tls}: moved by upgrade_control() and downgrade_control()
  ControlChannel control;
  DataChannel data;
  // The data connection of the next transfer as it sees it: opened (or accepted early), secured, closed.
  DataLink data_link;

  bool command_running = false;  // a command's handler runs (not a transfer): the watchdog waits
  // Set by end_session (watchdog.hpp); the session then ends with 421.
  EndReason end_reason = EndReason::kNone;

  // The running transfer (at most one), its data connection and its progress; the only owner of them.
  TransferSlot transfer;
  Clock::time_point last_activity;  // services.clock: the last command, or the end of a transfer (touch())
  const Clock::time_point connected_at;  // services.clock
  // This session's entry in services.registry, which the session keeps up to date from its own loop
  // (user, TLS, activity, transfer). Set when the session starts (session.cpp), before any command.
  SessionRegistry::Registration live;

  std::vector<std::string> client_certificate;  // CN and SANs of a verified client certificate
  bool control_cleared = false;  // CCC has taken TLS off the control connection (AUTH TLS puts it back)

  // One line of the session log with this session's id, client address and user (obs::session_event).
  // `event` names the kind of line ("login", "transfer") for the JSON format.
  template <class... Args>
  void log(spdlog::level::level_enum level, std::string_view event, fmt::format_string<Args...> format,
           Args&&... args) const {
    if (!spdlog::should_log(level)) return;
    log_fields(level, event, fmt::format(format, std::forward<Args>(args)...), {});
  }
  void log_fields(spdlog::level::level_enum level, std::string_view event, std::string_view message,
                  std::initializer_list<obs::Field> fields) const;

  // Runs `f` on the blocking pool (file system, password hashing).
  template <class F>
  Task<std::invoke_result_t<F&>> blocking(F f) {
    co_return co_await services.blocking.run(std::move(f));
  }
  // Resolves a client path against the cwd.
  [[nodiscard]] Result<vfs::VirtualPath, vfs::PathError> resolve(std::string_view argument) const {
    return vfs::VirtualPath::resolve(state.cwd, argument);
  }
  [[nodiscard]] const vfs::LocalFs& fs() const { return *state.fs; }

  // The session belongs to `next` from now on: its users, passive settings and ports, limits, banner.
  // Before login only, with no data connection prepared.
  void enter_domain(std::shared_ptr<const Domain> next, DomainChoice how);
  // The domain's name for logs and limits ("default" without one).
  [[nodiscard]] const std::string& domain_name() const noexcept;

  // AUTH TLS after its 234, and implicit TLS at connect. False: the session must end.
  Task<bool> upgrade_control();
  // The TLS server name (SNI) of the control connection chooses the domain, unless the listener did;
  // after HOST it must name HOST's domain. False: it does not (421 sent), the session must end.
  Task<bool> follow_server_name(const std::string& server_name);
  // CCC after its 200: close_notify both ways, then clear text again.
  Task<bool> downgrade_control();
  // The end of the session: a TLS control connection gets our close_notify after the last reply
  // (221, 421) and waits a short while for the client's, unless the client does not read.
  Task<void> close_control();
  // Sends the 150 (or other preliminary) reply of a transfer (TransferSlot::replied_first).
  Task<void> preliminary(const Reply& reply);
  // A command arrived, or a transfer ended: the idle time starts again, here and in the registry.
  void touch() {
    last_activity = now();
    live->touch();
  }
  // The session's time (Services::clock).
  [[nodiscard]] Clock::time_point now() const noexcept { return services.clock->now(); }
};

}  // namespace ftpsd::session
