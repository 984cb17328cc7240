#pragma once
// What a command handler sees of its session: state, control and data channels, shared services.
// Handlers are free functions `Task<Reply> handle_x(SessionContext&, const Command&)`.
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <string>

#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "protocol/command.hpp"
#include "protocol/reply.hpp"
#include "session/control_channel.hpp"
#include "session/data_channel.hpp"
#include "session/error_mapping.hpp"
#include "session/services.hpp"
#include "session/session_state.hpp"
#include "session/transfer.hpp"
#include "tls/binding.hpp"
#include "tls/closure.hpp"

namespace ftpsd::session {

using protocol::Reply;
using protocol::ReplyCode;

// Why the server ends a session on its own (Watchdog); the control loop sends the matching 421.
// kNotReading: a reply has waited server.data_timeout for the client to read it (no 421 can reach it).
enum class EndReason : std::uint8_t { kNone, kLoginTimeout, kIdleTimeout, kStopping, kNotReading };

class SessionContext {
 public:
  // `client`: the address from a PROXY protocol header, which replaces the socket's peer everywhere
  // (logs, address overrides, PORT checks, the same-peer check of data connections).
  // `transport`: the control connection, which outlives the context.
  SessionContext(Services& svc, Snapshot snap, std::uint64_t session_id, ControlTransport& transport,
                 const config::ListenerConfig& listener_cfg,
                 std::optional<asio::ip::address> client = std::nullopt);

  Services& services;
  const Snapshot snapshot;                       // configuration, users, passive settings at the start
  std::shared_ptr<const config::Config> config;  // snapshot.config
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

  bool command_running = false;             // a command's handler runs (not a transfer): the watchdog waits
  EndReason end_reason = EndReason::kNone;  // set by the watchdog; the session then ends with 421

  // A running transfer (at most one): its progress for STAT, its stream for ABOR.
  bool transfer_active = false;
  std::atomic<bool> abort_requested = false;  // also read on the worker pool (an upload's commit)
  bool transfer_replied = false;              // the running transfer has sent its 150
  TransferProgress progress;
  tls::Stream* active_stream = nullptr;
  Clock::time_point last_activity;       // services.clock
  const Clock::time_point connected_at;  // services.clock

  std::string data_tls;  // version and cipher of the last protected data connection, for STAT
  std::vector<std::string> client_certificate;  // CN and SANs of a verified client certificate
  bool control_cleared = false;  // CCC has taken TLS off the control connection (AUTH TLS puts it back)
  // The TLS closure of the last protected data connection, which goes on after its final reply.
  tls::Closing data_closing;

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

  // Opens the data connection of the current transfer command, applying the data protection level.
  // On failure the Reply to send instead (the transfer never starts).
  Task<Result<tls::Stream, Reply>> open_data();
  // PASV/EPSV with PROT P: the data connection is accepted as soon as the client connects, and its TLS
  // handshake runs as soon as the client starts it, before the transfer command: some clients (aioftp)
  // send that command only once the handshake is done. The transfer takes the connection over
  // (open_data, secure_data); passive.connect_timeout still counts from the transfer command.
  void start_early_data();
  // A passive or active data connection is prepared (or accepted early) for the next transfer.
  [[nodiscard]] bool data_prepared() const noexcept { return data.prepared() || early_ != nullptr; }
  // Forgets the prepared data connection, an early one included (and waits until that has ended).
  Task<void> reset_data();
  // After a PROT P transfer's 150: the TLS handshake on the data connection, with the session-reuse
  // check. On failure the final reply to send (the data connection is closed).
  Task<Result<bool, Reply>> secure_data(tls::Stream& stream);
  // AUTH TLS after its 234, and implicit TLS at connect. False: the session must end.
  Task<bool> upgrade_control();
  // CCC after its 200: close_notify both ways, then clear text again.
  Task<bool> downgrade_control();
  // The end of a data connection: a protected one whose handshake completed gets our close_notify
  // (bounded by `bound`: it carries the end of a download) and then the rest of the TLS closure in
  // data_closing, so that the final reply waits for none of it. An error: our close_notify did not go
  // out (a download's last piece with it). Any other connection is just closed.
  Task<std::error_code> close_data(tls::Stream& stream, Duration bound);
  // The end of the session: a TLS control connection gets our close_notify after the last reply
  // (221, 421) and waits a short while for the client's, unless the client does not read.
  Task<void> close_control();
  // Sends the 150 (or other preliminary) reply of a transfer.
  Task<void> preliminary(const Reply& reply);
  // Until the running transfer has sent its first reply (its 150, or its only reply when refused):
  // the replies to commands sent after a transfer command never overtake it.
  Task<void> wait_transfer_reply();
  // Wakes whoever waits for the end of the transfer.
  void transfer_finished();
  Task<void> wait_transfer();
  // ABOR: closes the data connection (or the pending accept) of the running transfer.
  void abort_transfer();
  // The session's time (Services::clock).
  [[nodiscard]] Clock::time_point now() const noexcept { return services.clock->now(); }

 private:
  struct EarlyData;
  Task<void> run_early_data(std::shared_ptr<EarlyData> early);
  Task<Result<tls::Stream, DataError>> take_early_data(Duration timeout);
  // The TLS handshake of a data connection in the server role, bounded by tls.handshake_timeout
  // (nullopt: timed out).
  Task<std::optional<std::error_code>> handshake_data(tls::Stream& stream);

  asio::steady_timer transfer_done_;
  std::shared_ptr<EarlyData> early_;
  std::optional<std::optional<std::error_code>> early_handshake_;  // its result, for secure_data
};

}  // namespace ftpsd::session
