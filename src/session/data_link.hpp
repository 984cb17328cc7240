#pragma once
// The data connection as a transfer sees it, on top of DataChannel: opened for the transfer command
// (or accepted early, before it, with PROT P), secured with TLS for PROT P and checked to resume the
// control connection's TLS session, and closed with the TLS closure. Its TLS goes through the session's
// tls::SessionBinding. One per session (SessionContext::data_link), used on the session's event loop.
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "protocol/reply.hpp"
#include "runtime/asio.hpp"
#include "session/data_channel.hpp"
#include "tls/closure.hpp"
#include "tls/stream.hpp"
#include "util/duration.hpp"
#include "util/result.hpp"

namespace ftpsd::session {

class SessionContext;

class DataLink {
 public:
  // `ctx` owns the link and outlives it.
  explicit DataLink(SessionContext& ctx) : ctx_(ctx) {}
  DataLink(const DataLink&) = delete;
  DataLink& operator=(const DataLink&) = delete;

  // PASV/EPSV with PROT P: the data connection is accepted as soon as the client connects, and its TLS
  // handshake runs as soon as the client starts it, before the transfer command: some clients (aioftp)
  // send that command only once the handshake is done. The transfer takes the connection over (open,
  // secure); passive.connect_timeout still counts from the transfer command.
  void start_early();
  // A passive or active data connection is prepared (or accepted early) for the next transfer.
  [[nodiscard]] bool prepared() const noexcept;
  // Forgets the prepared data connection, an early one included (and waits until that has ended).
  Task<void> reset();
  // Opens the data connection of the current transfer command, applying the data protection level.
  // On failure the Reply to send instead (the transfer never starts).
  Task<Result<tls::Stream, protocol::Reply>> open();
  // After a PROT P transfer's 150: the TLS handshake on the data connection, with the session-reuse
  // check. On failure the final reply to send (the data connection is closed).
  Task<Result<bool, protocol::Reply>> secure(tls::Stream& stream);
  // The end of a data connection: a protected one whose handshake completed gets our close_notify
  // (bounded by `bound`: it carries the end of a download) and then the rest of the TLS closure in the
  // background, so that the final reply waits for none of it. An error: our close_notify did not go
  // out (a download's last piece with it). Any other connection is just closed.
  Task<std::error_code> close(tls::Stream& stream, Duration bound);
  // ABOR or the end of the session: ends the pending accept or connect, and an early TLS handshake
  // still running.
  void abort() noexcept;
  // Version and cipher of the last protected data connection, for STAT; empty before the first.
  [[nodiscard]] const std::string& last_tls() const noexcept { return last_tls_; }

 private:
  struct Early;
  Task<void> run_early(std::shared_ptr<Early> early);
  Task<Result<tls::Stream, DataError>> take_early(Duration timeout);
  // The TLS handshake of a data connection in the server role, bounded by tls.handshake_timeout
  // (nullopt: timed out).
  Task<std::optional<std::error_code>> handshake(tls::Stream& stream);
  // A data connection that did not resume the control connection's TLS session: the final reply that
  // refuses it, or nullopt when tls.session_reuse lets it through.
  std::optional<protocol::Reply> refuse_unresumed(tls::Stream& stream);

  SessionContext& ctx_;
  // The TLS closure of the last protected data connection, which goes on after its final reply.
  tls::Closing closing_;
  std::string last_tls_;
  std::shared_ptr<Early> early_;
  std::optional<std::optional<std::error_code>> early_handshake_;  // its result, for secure()
};

}  // namespace ftpsd::session
