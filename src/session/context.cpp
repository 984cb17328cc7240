#include "session/context.hpp"

#include <fmt/format.h>

#include "obs/metrics.hpp"
#include "runtime/timeout.hpp"
#include "session/abuse.hpp"
#include "session/security_policy.hpp"

namespace ftpsd::session {
namespace {

// CCC: how long the client may take to start the TLS closure itself before ours goes first.
constexpr Duration kCccClientFirst = std::chrono::milliseconds(250);

}  // namespace

SessionContext::SessionContext(Services& svc, Snapshot snap, std::uint64_t session_id,
                               ControlTransport& transport, const config::ListenerConfig& listener_cfg,
                               std::optional<asio::ip::address> client)
    : services(svc),
      snapshot(std::move(snap)),
      config(snapshot.config),
      listener(listener_cfg),
      id(session_id),
      peer(normalize(client ? *client : transport.remote_address())),
      local(normalize(transport.local_address())),
      tls(svc.tls ? svc.tls->current() : nullptr),
      control(transport, *svc.clock),
      data(transport.executor(), *snapshot.ports, peer, local,
           DataChannelOptions::from(*snapshot.config, listener_cfg)),
      last_activity(svc.clock->now()),
      connected_at(last_activity),
      transfer_done_(transport.executor()) {
  tls.set_host_hint(&state.host);
  transfer_done_.expires_at(asio::steady_timer::time_point::max());
  // SECURITY: a connection to our passive port from another address is someone trying to steal the
  // transfer: it counts towards a ban of that address.
  data.on_foreign_peer([this](const asio::ip::address& thief) {
    report_offence(services, *config, thief, Offence::kProtocol,
                   fmt::format("reason=data connection to the passive port of another client s={}", id));
  });
}

void SessionContext::log_fields(spdlog::level::level_enum level, std::string_view event,
                                std::string_view message, std::initializer_list<obs::Field> fields) const {
  const std::string client = peer.to_string();
  obs::session_event(level, {.id = id, .client = client, .user = state.user_name}, event, message, fields);
}

// The data connection accepted before its transfer command (start_early_data).
struct SessionContext::EarlyData {
  enum class Phase : std::uint8_t { kAccepting, kConnected, kHandshaking, kDone };
  explicit EarlyData(const asio::any_io_executor& executor) : changed(executor) {
    changed.expires_at(asio::steady_timer::time_point::max());
  }
  void set(Phase p) {
    phase = p;
    changed.cancel();  // wakes whoever waits for a change
  }
  Phase phase = Phase::kAccepting;
  bool claimed = false;  // taken by the transfer or ended: no handshake starts any more
  std::optional<tls::Stream> stream;
  DataError error = DataError::kAborted;                    // kDone without a stream
  std::optional<std::optional<std::error_code>> handshake;  // the handshake ran early: its result
  asio::steady_timer changed;
};

void SessionContext::start_early_data() {
  early_ = std::make_shared<EarlyData>(control.executor());
  asio::co_spawn(control.executor(), run_early_data(early_), asio::detached);
}

Task<void> SessionContext::run_early_data(std::shared_ptr<EarlyData> early) {
  // Not bounded here: the transfer command bounds the wait for the connection (take_early_data), and
  // a new PASV, PORT, ABOR or the end of the session ends it.
  auto accepted = co_await data.open(std::chrono::hours(24 * 365));
  if (!accepted) {
    early->error = accepted.error();
    early->set(EarlyData::Phase::kDone);
    co_return;
  }
  early->stream.emplace(std::move(*accepted));
  early->set(EarlyData::Phase::kConnected);
  if (!early->claimed) {
    // Bytes before the transfer command: the client starts its TLS handshake now.
    auto [ec] = co_await early->stream->socket().async_wait(tcp::socket::wait_read, kTuple);
    if (!ec && !early->claimed) {
      early->set(EarlyData::Phase::kHandshaking);
      early->handshake = co_await handshake_data(*early->stream);
    }
  }
  early->set(EarlyData::Phase::kDone);
}

Task<Result<tls::Stream, DataError>> SessionContext::take_early_data(Duration timeout) {
  const auto early = early_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (early->phase == EarlyData::Phase::kAccepting) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(early->changed.get_executor(), deadline);
    auto r = co_await (early->changed.async_wait(kTuple) || timer.async_wait(kTuple));
    if (r.index() == 1 && early->phase == EarlyData::Phase::kAccepting) {
      timed_out = true;
      data.abort();  // ends the accept
      break;
    }
  }
  early->claimed = true;
  if (early->phase == EarlyData::Phase::kConnected) {
    std::error_code ignored;
    early->stream->socket().cancel(ignored);  // no handshake before the 150: the transfer does it
  }
  while (early->phase != EarlyData::Phase::kDone) co_await early->changed.async_wait(kTuple);
  early_.reset();
  if (!early->stream) co_return Unexpected{timed_out ? DataError::kTimeout : early->error};
  early_handshake_ = early->handshake;
  co_return std::move(*early->stream);
}

Task<void> SessionContext::reset_data() {
  if (const auto early = std::exchange(early_, nullptr)) {
    early->claimed = true;
    data.abort();
    std::error_code ignored;
    if (early->stream) early->stream->socket().cancel(ignored);
    while (early->phase != EarlyData::Phase::kDone) co_await early->changed.async_wait(kTuple);
    if (early->stream) early->stream->close();
  }
  early_handshake_.reset();
  data.reset();
}

Task<Result<tls::Stream, Reply>> SessionContext::open_data() {
  const bool passive = early_ || data.passive();
  auto timeout = passive ? config->passive.connect_timeout : config->active.connect_timeout;
  auto stream = early_ ? co_await take_early_data(timeout) : co_await data.open(timeout);
  if (!passive && (stream || stream.error() != DataError::kAborted))
    obs::count(stream ? obs::metrics().active_connects_ok : obs::metrics().active_connects_failed);
  if (!stream) {
    auto meaning = data_error_meaning(stream.error());
    if (meaning.failure) obs::metrics().data_failure(*meaning.failure);
    const auto why = explain(stream.error(), passive, data.refused_by_last_open());
    log(stream.error() == DataError::kAborted ? spdlog::level::debug : spdlog::level::warn, "data_failed",
        "data connection failed: {}; fix: {}", why.cause, why.fix);
    co_return Unexpected{std::move(meaning.reply)};
  }
  co_return std::move(*stream);
}

Task<void> SessionContext::preliminary(const Reply& reply) {
  co_await control.send(reply);
  transfer_replied = true;
  transfer_done_.cancel();  // wakes wait_transfer_reply(); wait_transfer() goes on waiting
}

Task<void> SessionContext::wait_transfer_reply() {
  while (transfer_active && !transfer_replied) co_await transfer_done_.async_wait(kTuple);
}

void SessionContext::transfer_finished() {
  // The idle time counts from the end of the transfer: a session is not idle while its transfer runs.
  last_activity = now();
  transfer_active = false;
  active_stream = nullptr;
  progress.description.clear();
  progress.bytes = 0;
  progress.total = 0;
  transfer_done_.cancel();
}

Task<void> SessionContext::wait_transfer() {
  while (transfer_active) co_await transfer_done_.async_wait(kTuple);
}

void SessionContext::abort_transfer() {
  abort_requested = true;
  data.abort();
  if (active_stream != nullptr) active_stream->close();
  std::error_code ignored;
  if (early_ && early_->stream) early_->stream->socket().cancel(ignored);  // a handshake still running
}

Task<bool> SessionContext::upgrade_control() {
  // SECURITY: whatever the client sent after AUTH TLS and before the handshake was sent in clear
  // and could have been injected by anyone on the path (CVE-2011-0411): it is discarded, never run.
  if (control.has_buffered_input()) {
    log(spdlog::level::warn, "tls_injection",
        "discarded {} bytes sent after AUTH TLS before the TLS handshake", control.buffered_input_size());
    control.discard_buffered_input();
  }
  tls::Stream* stream = control.stream();
  if (stream == nullptr || !tls.configured()) {
    log(spdlog::level::err, "tls_failed", "TLS is not available on this control connection");
    co_return false;
  }
  auto ec = co_await runtime::with_timeout(tls.accept_control(*stream), config->tls.handshake_timeout);
  if (!ec || *ec) {
    obs::metrics().handshake(obs::Channel::kControl, obs::Handshake::kFailed);
    log(spdlog::level::info, "tls_failed", "TLS handshake on the control connection failed: {}",
        ec ? ec->message() : std::string("timeout"));
    co_return false;
  }
  control_cleared = false;
  auto facts = tls::SessionBinding::facts(*stream);
  client_certificate = std::move(facts.client_identities);
  obs::metrics().handshake(obs::Channel::kControl,
                           facts.resumed ? obs::Handshake::kResumed : obs::Handshake::kFull);
  gauge.set_tls(true);
  log(spdlog::level::info, "tls", "control connection secured: {}{}", facts.description,
      client_certificate.empty() ? "" : ", client certificate " + client_certificate.front());
  co_return true;
}

Task<bool> SessionContext::downgrade_control() {
  tls::Stream* stream = control.stream();
  if (stream == nullptr) co_return false;
  auto ec =
      co_await runtime::with_timeout(stream->shutdown_tls(kCccClientFirst), config->tls.handshake_timeout);
  if (!ec || (*ec && *ec != asio::error::eof)) {
    log(spdlog::level::info, "ccc", "CCC: TLS shutdown failed: {}",
        ec ? ec->message() : std::string("timeout"));
    co_return false;
  }
  control_cleared = true;
  gauge.set_tls(false);
  log(spdlog::level::info, "ccc", "control connection back to clear text (CCC)");
  co_return true;
}

Task<std::optional<std::error_code>> SessionContext::handshake_data(tls::Stream& stream) {
  co_return co_await runtime::with_timeout(tls.accept_data(stream), config->tls.handshake_timeout);
}

Task<Result<bool, Reply>> SessionContext::secure_data(tls::Stream& stream) {
  if (!tls.configured())
    co_return Unexpected{Reply{ReplyCode::kNetworkProtocolNotSupported, "TLS is not configured."}};
  std::optional<std::error_code> ec;
  if (early_handshake_)
    ec = *std::exchange(early_handshake_, std::nullopt);  // it ran before the transfer command
  else
    ec = co_await handshake_data(stream);
  if (!ec || *ec) {
    const std::string why = ec ? ec->message() : "timeout";
    obs::metrics().handshake(obs::Channel::kData, obs::Handshake::kFailed);
    obs::metrics().data_failure(obs::DataFailure::kTlsHandshake);
    log(spdlog::level::info, "data_failed",
        "data connection failed: TLS handshake failed ({}); fix: the client must do a TLS handshake on "
        "the "
        "data connection after PROT P (or use PROT C), and reach this server directly: a proxy or "
        "load balancer in between must pass TLS through untouched",
        why);
    co_return Unexpected{
        Reply{ReplyCode::kCannotOpenDataConnection, "TLS handshake on the data connection failed."}};
  }
  auto facts = tls::SessionBinding::facts(stream);
  data_tls = std::move(facts.description);
  obs::metrics().handshake(obs::Channel::kData,
                           facts.resumed ? obs::Handshake::kResumed : obs::Handshake::kFull);
  if (facts.resumed) co_return true;
  const auto policy = effective_session_reuse(*config, state.user.get(), peer);
  if (policy == config::SessionReuse::kOff) co_return true;
  // SECURITY: only this control connection's TLS session can be resumed here (the session id context
  // is private to it), so a full handshake means either a client that does not resume, or someone
  // else who connected to the data port.
  if (policy == config::SessionReuse::kReport) {
    obs::count(obs::metrics().tls_reuse_reported);
    log(spdlog::level::warn, "tls_reuse",
        "data connection did not resume the control connection's TLS session; accepted because {} "
        "(\"require\" would refuse it)",
        session_reuse_setting(*config, state.user.get(), peer));
    co_return true;
  }
  // From another address than the control connection (possible with passive.require_same_peer = false):
  // a thief, counted towards a ban. From the client itself it is a client that does not resume TLS
  // sessions, which is refused but not punished.
  std::optional<asio::ip::address> stranger;
  if (std::error_code pec; !listener.proxy_protocol) {
    const auto from = normalize(stream.socket().remote_endpoint(pec).address());
    if (!pec && from != peer) stranger = from;
  }
  const bool from_client = !stranger && (data.options().require_same_peer || !listener.proxy_protocol);
  if (control_cleared && from_client) {
    // After CCC a client may no longer have the control connection's TLS session to resume: lftp drops
    // it with the control connection's TLS and does full handshakes. Accepted from the client's own
    // address, logged and counted as under "report"; from anywhere else refused as always.
    obs::count(obs::metrics().tls_reuse_reported);
    log(spdlog::level::warn, "tls_reuse",
        "data connection did not resume the TLS session the control connection had before CCC; accepted "
        "because it comes from the client's address");
    co_return true;
  }
  obs::metrics().data_failure(obs::DataFailure::kTlsReuseRefused);
  if (stranger)
    report_offence(
        services, *config, *stranger, Offence::kProtocol,
        fmt::format("reason=data connection without the control connection's TLS session s={}", id));
  log(spdlog::level::warn, "data_failed",
      "data connection refused: it did not resume the control connection's TLS session; fix: "
      "a client that does not reuse TLS sessions needs tls_session_reuse = \"off\" for its user or network "
      "({}), otherwise another host connected to the data port",
      session_reuse_setting(*config, state.user.get(), peer));
  co_return Unexpected{Reply{ReplyCode::kNetworkProtocolNotSupported,
                             "Data connection refused: TLS session of the control connection not resumed. "
                             "Use a client that reuses TLS sessions."}};
}

Task<std::error_code> SessionContext::close_data(tls::Stream& stream, Duration bound) {
  if (!stream.established()) {
    stream.close();
    co_return std::error_code{};
  }
  auto sent = co_await runtime::with_timeout(stream.close_notify(), bound);
  const std::error_code ec = sent ? *sent : std::make_error_code(std::errc::timed_out);
  if (ec || stream.peer_closed()) {  // failed, or both close_notify are through: nothing to wait for
    stream.close();
    co_return ec;
  }
  data_closing = tls::Closing::start(
      std::move(stream), tls::kPeerCloseWait, [id = id, client = peer.to_string(), user = state.user_name] {
        obs::session_event(spdlog::level::debug, {.id = id, .client = client, .user = user}, "tls_close",
                           fmt::format("data connection closed without the client's close_notify (none "
                                       "within {})",
                                       format_duration(tls::kPeerCloseWait)));
      });
  co_return std::error_code{};
}

Task<void> SessionContext::close_control() {
  tls::Stream* stream = control.stream();
  if (stream == nullptr || !stream->established() || end_reason == EndReason::kNotReading) co_return;
  auto sent = co_await runtime::with_timeout(stream->close_notify(), tls::kPeerCloseWait);
  if (!sent || *sent) co_return;
  if (!co_await tls::finish_close(*stream, tls::kPeerCloseWait))
    log(spdlog::level::debug, "tls_close",
        "control connection closed without the client's close_notify (none within {})",
        format_duration(tls::kPeerCloseWait));
}

}  // namespace ftpsd::session
