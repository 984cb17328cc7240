#include "session/session.hpp"

#include <spdlog/spdlog.h>

#include "obs/metrics.hpp"
#include "session/command_table.hpp"
#include "session/context.hpp"
#include "session/security_policy.hpp"
#include "session/watchdog.hpp"
#include "util/limits.hpp"

namespace ftpsd::session {
namespace {

// SECURITY: with tls.required = login or all (for this user), credentials never travel in clear.
std::optional<Reply> refuse_clear_login(const SessionContext& ctx, const protocol::Command& cmd) {
  if (ctx.control.secure()) return std::nullopt;
  const std::string& name = cmd.verb == protocol::Verb::kUser ? cmd.argument : ctx.state.user_name;
  const auto user = auth::share_user(ctx.domain->users, name);
  if (effective_tls_required(*ctx.config, user.get()) == config::TlsRequired::kNone) return std::nullopt;
  ctx.log(spdlog::level::info, "tls_required", "{} refused on a clear control connection: {}",
          protocol::verb_name(cmd.verb), tls_required_setting(*ctx.config, user.get()));
  return Reply{ReplyCode::kNotLoggedIn, "Login only over TLS: send AUTH TLS first."};
}

// SECURITY: with tls.required = all (for this user), no data connection goes in clear.
std::optional<Reply> refuse_clear_data(const SessionContext& ctx, const protocol::Command& cmd) {
  if (ctx.state.protection == DataProtection::kPrivate ||
      effective_tls_required(*ctx.config, ctx.state.user.get()) != config::TlsRequired::kAll)
    return std::nullopt;
  ctx.log(spdlog::level::info, "tls_required", "{} refused without PROT P: {}", protocol::verb_name(cmd.verb),
          tls_required_setting(*ctx.config, ctx.state.user.get()));
  return Reply{ReplyCode::kProtectionLevelDenied,
               "Data connections must be protected: send PBSZ 0 and PROT P first."};
}

// Checks the command table's preconditions in a fixed order; nullopt when the command may run.
std::optional<Reply> refuse(const SessionContext& ctx, const CommandSpec& spec,
                            const protocol::Command& cmd) {
  if (spec.sends_credentials) {
    if (auto r = refuse_clear_login(ctx, cmd)) return r;
  }
  if (spec.access == Access::kLoggedIn && !ctx.state.logged_in())
    return Reply{ReplyCode::kNotLoggedIn, "Please login with USER and PASS."};
  if (spec.needs_argument && cmd.argument.empty())
    return Reply{ReplyCode::kBadArgument, std::string(protocol::verb_name(cmd.verb)) + " needs an argument."};
  if (spec.needs_write && !ctx.state.can_write())
    return Reply{ReplyCode::kFileUnavailable, "Permission denied."};
  if (spec.data_transfer) {
    if (auto r = refuse_clear_data(ctx, cmd)) return r;
  }
  if (spec.data_transfer && !ctx.data_link.prepared())
    return Reply{ReplyCode::kCannotOpenDataConnection, "Use PORT, EPRT, PASV or EPSV first."};
  return std::nullopt;
}

Reply parse_error_reply(protocol::ParseError e, std::string_view line) {
  if (e == protocol::ParseError::kControlCharacter)
    return {ReplyCode::kBadArgument, "Control characters are not allowed in arguments."};
  return {ReplyCode::kSyntaxError, "Unknown command " + protocol::verb_of(line) + "."};
}

std::string loggable(const protocol::Command& cmd) {
  if (cmd.verb == protocol::Verb::kPass) return "PASS ****";  // SECURITY: passwords are never logged
  return cmd.argument.empty() ? std::string(protocol::verb_name(cmd.verb))
                              : std::string(protocol::verb_name(cmd.verb)) + " " + cmd.argument;
}

// The transfer task, run by the TransferSlot beside the control loop, which goes on reading (ABOR,
// STAT): the handler of a transfer command. Always ends with exactly one final reply.
Task<void> transfer_task(SessionContext& ctx, const CommandSpec& spec, protocol::Command cmd) {
  Reply reply;
  try {
    reply = co_await spec.handler(ctx, cmd);
  } catch (const std::exception& e) {
    ctx.log(spdlog::level::err, "internal_error", "{} failed: {}", protocol::verb_name(cmd.verb), e.what());
    reply = Reply{ReplyCode::kLocalError, "Local error in processing."};
  }
  ctx.state.restart_offset = 0;
  co_await ctx.data_link.reset();
  if (!reply.empty()) co_await ctx.control.send(reply);
  // The idle time counts from the end of the transfer: a session is not idle while its transfer runs.
  ctx.live->transfer_ended();
  ctx.touch();
}

// The 421 of a session the server ends (EndReason: decided by the Watchdog, or asked for by an
// administrator through the session registry).
Task<void> say_goodbye(SessionContext& ctx) {
  switch (ctx.end_reason) {
    case EndReason::kStopping:
      // The watchdog aborted a transfer still running at the deadline: its 426 goes first.
      co_await ctx.transfer.wait();
      ctx.log(spdlog::level::info, "shutdown", "server stopping: session closed");
      co_await ctx.control.send(
          Reply{ReplyCode::kServiceUnavailable, "Server shutting down, closing control connection."});
      break;
    case EndReason::kLoginTimeout:
      ctx.log(spdlog::level::info, "timeout", "login timeout");
      co_await ctx.control.send(
          Reply{ReplyCode::kServiceUnavailable, "Login timeout: closing control connection."});
      break;
    case EndReason::kIdleTimeout:
      ctx.log(spdlog::level::info, "timeout", "idle timeout");
      co_await ctx.control.send(
          Reply{ReplyCode::kServiceUnavailable, "Idle timeout: closing control connection."});
      break;
    case EndReason::kAdmin:
      co_await ctx.transfer.wait();  // aborted by end_session: its 426 goes first
      ctx.log(spdlog::level::info, "admin", "session ended by the administrator");
      co_await ctx.control.send(Reply{ReplyCode::kServiceUnavailable, "Session ended by the administrator."});
      break;
    case EndReason::kNotReading:  // its replies go nowhere: the Watchdog has logged why
    case EndReason::kNone:
      break;
  }
}

// Returns false when the session must end.
Task<bool> dispatch(SessionContext& ctx, const protocol::Command& cmd) {
  const CommandSpec* spec = find_command(cmd.verb);
  if (spec == nullptr) {
    co_await ctx.control.send(
        Reply{ReplyCode::kNotImplemented, std::string(protocol::verb_name(cmd.verb)) + " not implemented."});
    co_return true;
  }
  // Replies come in the order of the commands. A command sent during a transfer waits for the
  // transfer's final reply (RFC 959 lets a server queue it), NOOP too: a client such as ftplib takes
  // any 2xx after the 150 for the end of the transfer. Only the two commands RFC 959 defines to act
  // on a running transfer answer before its end: STAT (its progress), after the transfer's first
  // reply, and ABOR, which answers after the transfer's last one anyway (426, then its 226) and must
  // not wait: it may end a transfer that still waits for its data connection.
  if (ctx.transfer.active() && !spec->during_transfer) {
    co_await ctx.transfer.wait();
    if (ctx.end_reason != EndReason::kNone) co_return true;  // the session ends: not this command
  }
  if (ctx.transfer.active() && cmd.verb == protocol::Verb::kStat) co_await ctx.transfer.wait_reply();
  if (!spec->keeps_rename) ctx.state.rename_from.reset();
  if (auto refused = refuse(ctx, *spec, cmd)) {
    co_await ctx.control.send(*refused);
    co_return true;
  }
  if (spec->data_transfer) {
    ctx.transfer.begin(transfer_task(ctx, *spec, cmd));
    co_return true;
  }
  ctx.command_running = true;
  Reply reply = co_await spec->handler(ctx, cmd);
  ctx.command_running = false;
  if (reply.empty()) co_return true;
  if (co_await ctx.control.send(reply)) co_return false;
  switch (reply.after) {
    case protocol::AfterReply::kClose:
      co_return false;
    case protocol::AfterReply::kUpgradeToTls:
      co_return co_await ctx.upgrade_control();
    case protocol::AfterReply::kDowngradeToClear:
      co_return co_await ctx.downgrade_control();
    case protocol::AfterReply::kNone:
      break;
  }
  co_return true;
}

// What the command loop leaves behind: nothing more to read for now (the session parks), or the end.
enum class Next : std::uint8_t { kPark, kEnd };

// Runs the commands the client has sent, until it has to wait for more (kPark) or the session ends.
Task<Next> control_loop(SessionContext& ctx) {
  for (;;) {
    if (ctx.end_reason != EndReason::kNone) {
      co_await say_goodbye(ctx);
      co_return Next::kEnd;
    }
    if (!ctx.control.has_input()) co_return Next::kPark;
    auto line = co_await ctx.control.read_line();
    if (!line) {
      if (line.error() == LineError::kClosed) {
        if (ctx.end_reason != EndReason::kNone) continue;  // the watchdog cancelled the read
        co_return Next::kEnd;
      }
      co_await ctx.control.send(Reply{ReplyCode::kSyntaxError, "Command line too long."});
      continue;
    }
    ctx.touch();
    auto cmd = protocol::parse_command(*line);
    if (!cmd) {
      if (cmd.error() != protocol::ParseError::kEmpty)
        co_await ctx.control.send(parse_error_reply(cmd.error(), *line));
      continue;
    }
    ctx.log(spdlog::level::debug, "command", "<- {}", loggable(*cmd));
    if (!co_await dispatch(ctx, *cmd)) co_return Next::kEnd;
  }
}

// The session's entry in the registry of live sessions. An administrator's request to end it is posted
// to the session's loop and reaches the session through `alive`, if it is still there by then.
SessionRegistry::Registration register_session(SessionContext& ctx,
                                               const std::shared_ptr<SessionContext*>& alive) {
  return ctx.services.registry.add(
      {.id = ctx.id,
       .client = ctx.peer.to_string(),
       .listener = ctx.listener.address,
       .domain = ctx.domain_name()},
      ctx.control.executor(),
      [weak = std::weak_ptr<SessionContext*>(alive)] {
        if (const auto session = weak.lock()) end_session(**session, EndReason::kAdmin);
      },
      *ctx.services.clock);
}

// A session from its admission to its end. Owned by the coroutine that runs its commands, or, while
// it waits for the client, by the transport's wait (park()).
struct Session : ControlTransport::Parked {
  Session(Services& services, Snapshot snapshot, std::uint64_t id, ControlTransport& transport,
          const config::ListenerConfig& listener, std::optional<asio::ip::address> client,
          Admission&& granted)
      : admission(std::move(granted)),
        ctx(services, std::move(snapshot), id, transport, listener, std::move(client)) {
    ctx.live = register_session(ctx, alive);
  }
  ~Session() override {
    // Its callback may still be queued: it must never see a gone session.
    if (watchdog) watchdog->detach();
  }
  // The end of park(): the client has sent something, or the wait was cancelled.
  void resumed(std::unique_ptr<Parked> self, std::error_code ec) override;

  Admission admission;                 // given back last, when everything else is gone
  SessionContext ctx;                  // its registry entry goes with it
  std::shared_ptr<Watchdog> watchdog;  // from the greeting on
  // Goes first: a request to end the session that is still queued then finds nothing.
  std::shared_ptr<SessionContext*> alive = std::make_shared<SessionContext*>(&ctx);
};

// A session with the transport it runs over, in one allocation: `Holder` comes first, so the transport
// is built before the session and goes after it.
template <class T>
struct Holder {
  T held;
};

ControlTransport& transport_of(SocketTransport& t) {
  return t;
}
ControlTransport& transport_of(std::unique_ptr<ControlTransport>& t) {
  return *t;
}

// `T`: built in place from `A` (a transport is not movable).
template <class T>
struct SessionOver final : Holder<T>, Session {
  template <class A>
  SessionOver(A&& transport, Services& services, Snapshot snapshot, std::uint64_t id,
              const config::ListenerConfig& listener, std::optional<asio::ip::address> client,
              Admission&& granted)
      : Holder<T>{T(std::forward<A>(transport))},
        Session(services, std::move(snapshot), id, transport_of(this->held), listener, client,
                std::move(granted)) {}
};

enum class Step : std::uint8_t { kGreet, kCommands, kClose };

void park(std::unique_ptr<Session> session);

// Greeting (Step::kGreet), then the commands the client has sent; parks the session when there are no
// more, or closes it. An implicit-TLS listener does its handshake before the greeting.
Task<Next> greet(Session& s) {
  SessionContext& ctx = s.ctx;
  if (ctx.domain == nullptr) {
    // A reload removed the domain this listener is tied to; its running sessions finish, new ones go.
    ctx.log(spdlog::level::warn, "domain_refused",
            "listener {} is tied to domain {}, which is no longer configured", ctx.listener.address,
            ctx.listener.domain);
    co_await ctx.control.send(
        Reply{ReplyCode::kServiceUnavailable, "This site is no longer served here; closing."});
    co_return Next::kEnd;
  }
  if (ctx.listener.tls == config::TlsMode::kImplicit) {
    if (!co_await ctx.upgrade_control()) co_return Next::kEnd;
    ctx.state.pbsz = true;  // RFC 4217 §3 / implicit convention: data connections are protected too
    ctx.state.protection = DataProtection::kPrivate;
  }
  if (co_await ctx.control.send(Reply{ReplyCode::kServiceReady, ctx.config->server.banner}))
    co_return Next::kEnd;
  s.watchdog = Watchdog::start(ctx);
  co_return co_await control_loop(ctx);
}

Task<void> close_session(SessionContext& ctx) {
  ctx.transfer.abort();  // nothing when no transfer runs
  co_await ctx.transfer.wait();
  co_await ctx.data_link.reset();
  co_await ctx.close_control();  // close_notify after the 221 or 421
  ctx.control.close();
  ctx.log(spdlog::level::info, "disconnect", "disconnected");
}

Task<void> run(std::unique_ptr<Session> session, Step step) {
  Next next = Next::kEnd;
  try {
    if (step == Step::kGreet) next = co_await greet(*session);
    if (step == Step::kCommands) next = co_await control_loop(session->ctx);
  } catch (const std::exception& e) {
    session->ctx.log(spdlog::level::err, "internal_error", "session ended by an internal error: {}",
                     e.what());
  }
  if (next == Next::kPark) {
    park(std::move(session));
    co_return;
  }
  co_await close_session(session->ctx);
}

// Waits for the client's next bytes without a coroutine; the watchdog ends the wait by cancelling
// it (idle or login timeout, graceful stop), and the command loop then sends the 421.
void park(std::unique_ptr<Session> session) {
  auto& control = session->ctx.control;
  control.park(std::move(session));
}

void Session::resumed(std::unique_ptr<Parked> self, std::error_code ec) {
  std::unique_ptr<Session> s(static_cast<Session*>(self.release()));
  Step step = Step::kCommands;
  if (!ec)
    s->ctx.control.mark_readable();
  else if (s->ctx.end_reason == EndReason::kNone)
    step = Step::kClose;  // the socket is gone
  const auto executor = s->ctx.control.executor();
  asio::co_spawn(executor, run(std::move(s), step), asio::detached);
}

template <class T, class A>
void start(A transport, Services& services, Snapshot snapshot, const config::ListenerConfig& listener,
           Admission admission, std::optional<asio::ip::address> client) {
  const auto id = services.next_session_id.fetch_add(1, std::memory_order_relaxed);
  std::unique_ptr<Session> session =
      std::make_unique<SessionOver<T>>(std::move(transport), services, std::move(snapshot), id, listener,
                                       std::move(client), std::move(admission));
  obs::count(obs::metrics().sessions_total);  // and ctx.gauge counts it in ftpsd_sessions
  session->ctx.log(spdlog::level::info, "connect", "connected to {}", listener.address);
  const auto executor = session->ctx.control.executor();
  asio::co_spawn(executor, run(std::move(session), Step::kGreet), asio::detached);
}

}  // namespace

void start_session(asio::ip::tcp::socket socket, Services& services, Snapshot snapshot,
                   const config::ListenerConfig& listener, Admission admission,
                   std::optional<asio::ip::address> client) {
  std::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  // ABOR is often sent as urgent data (ftplib, RFC 959 §4.1.3 "Synch"): keep it in the stream.
  socket.set_option(asio::socket_base::out_of_band_inline(true), ec);
  // A client that does not read its replies is found out after a bounded amount of them (Watchdog).
  socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(limits::kControlSendBuffer)), ec);
  start<SocketTransport>(tls::Stream(std::move(socket)), services, std::move(snapshot), listener,
                         std::move(admission), std::move(client));
}

void start_session(std::unique_ptr<ControlTransport> transport, Services& services, Snapshot snapshot,
                   const config::ListenerConfig& listener, Admission admission,
                   std::optional<asio::ip::address> client) {
  start<std::unique_ptr<ControlTransport>>(std::move(transport), services, std::move(snapshot), listener,
                                           std::move(admission), std::move(client));
}

}  // namespace ftpsd::session
