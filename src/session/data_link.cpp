#include "session/data_link.hpp"

#include <fmt/format.h>

#include "obs/metrics.hpp"
#include "runtime/timeout.hpp"
#include "session/abuse.hpp"
#include "session/context.hpp"
#include "session/security_policy.hpp"
#include "tls/binding.hpp"

namespace ftpsd::session {

// The data connection accepted before its transfer command (start_early).
struct DataLink::Early {
  enum class Phase : std::uint8_t { kAccepting, kConnected, kHandshaking, kDone };
  explicit Early(const asio::any_io_executor& executor) : changed(executor) {
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

void DataLink::start_early() {
  early_ = std::make_shared<Early>(ctx_.control.executor());
  asio::co_spawn(ctx_.control.executor(), run_early(early_), asio::detached);
}

bool DataLink::prepared() const noexcept {
  return ctx_.data.prepared() || early_ != nullptr;
}

Task<void> DataLink::run_early(std::shared_ptr<Early> early) {
  // Not bounded here: the transfer command bounds the wait for the connection (take_early), and a new
  // PASV, PORT, ABOR or the end of the session ends it.
  auto accepted = co_await ctx_.data.open(std::chrono::hours(24 * 365));
  if (!accepted) {
    early->error = accepted.error();
    early->set(Early::Phase::kDone);
    co_return;
  }
  early->stream.emplace(std::move(*accepted));
  early->set(Early::Phase::kConnected);
  if (!early->claimed) {
    // Bytes before the transfer command: the client starts its TLS handshake now.
    auto [ec] = co_await early->stream->socket().async_wait(tcp::socket::wait_read, kTuple);
    if (!ec && !early->claimed) {
      early->set(Early::Phase::kHandshaking);
      early->handshake = co_await handshake(*early->stream);
    }
  }
  early->set(Early::Phase::kDone);
}

Task<Result<tls::Stream, DataError>> DataLink::take_early(Duration timeout) {
  const auto early = early_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (early->phase == Early::Phase::kAccepting) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(early->changed.get_executor(), deadline);
    auto r = co_await (early->changed.async_wait(kTuple) || timer.async_wait(kTuple));
    if (r.index() == 1 && early->phase == Early::Phase::kAccepting) {
      timed_out = true;
      ctx_.data.abort();  // ends the accept
      break;
    }
  }
  early->claimed = true;
  if (early->phase == Early::Phase::kConnected) {
    std::error_code ignored;
    early->stream->socket().cancel(ignored);  // no handshake before the 150: the transfer does it
  }
  while (early->phase != Early::Phase::kDone) co_await early->changed.async_wait(kTuple);
  early_.reset();
  if (!early->stream) co_return Unexpected{timed_out ? DataError::kTimeout : early->error};
  early_handshake_ = early->handshake;
  co_return std::move(*early->stream);
}

Task<void> DataLink::reset() {
  if (const auto early = std::exchange(early_, nullptr)) {
    early->claimed = true;
    ctx_.data.abort();
    std::error_code ignored;
    if (early->stream) early->stream->socket().cancel(ignored);
    while (early->phase != Early::Phase::kDone) co_await early->changed.async_wait(kTuple);
    if (early->stream) early->stream->close();
  }
  early_handshake_.reset();
  ctx_.data.reset();
}

void DataLink::abort() noexcept {
  ctx_.data.abort();
  std::error_code ignored;
  if (early_ && early_->stream) early_->stream->socket().cancel(ignored);  // a handshake still running
}

Task<Result<tls::Stream, Reply>> DataLink::open() {
  DataChannel& data = ctx_.data;
  const bool passive = early_ || data.passive();
  auto timeout = passive ? ctx_.config->passive.connect_timeout : ctx_.config->active.connect_timeout;
  auto stream = early_ ? co_await take_early(timeout) : co_await data.open(timeout);
  if (!passive && (stream || stream.error() != DataError::kAborted))
    obs::count(stream ? obs::metrics().active_connects_ok : obs::metrics().active_connects_failed);
  if (!stream) {
    auto meaning = data_error_meaning(stream.error());
    if (meaning.failure) obs::metrics().data_failure(*meaning.failure);
    const auto why = explain(stream.error(), passive, data.refused_by_last_open());
    ctx_.log(stream.error() == DataError::kAborted ? spdlog::level::debug : spdlog::level::warn,
             "data_failed", "data connection failed: {}; fix: {}", why.cause, why.fix);
    co_return Unexpected{std::move(meaning.reply)};
  }
  co_return std::move(*stream);
}

Task<std::optional<std::error_code>> DataLink::handshake(tls::Stream& stream) {
  co_return co_await runtime::with_timeout(ctx_.tls.accept_data(stream), ctx_.config->tls.handshake_timeout);
}

Task<Result<bool, Reply>> DataLink::secure(tls::Stream& stream) {
  if (!ctx_.tls.configured())
    co_return Unexpected{Reply{ReplyCode::kNetworkProtocolNotSupported, "TLS is not configured."}};
  std::optional<std::error_code> ec;
  if (early_handshake_)
    ec = *std::exchange(early_handshake_, std::nullopt);  // it ran before the transfer command
  else
    ec = co_await handshake(stream);
  if (!ec || *ec) {
    const std::string why = ec ? ec->message() : "timeout";
    obs::metrics().handshake(obs::Channel::kData, obs::Handshake::kFailed);
    obs::metrics().data_failure(obs::DataFailure::kTlsHandshake);
    ctx_.log(spdlog::level::info, "data_failed",
             "data connection failed: TLS handshake failed ({}); fix: the client must do a TLS handshake "
             "on the data connection after PROT P (or use PROT C), and reach this server directly: a "
             "proxy or load balancer in between must pass TLS through untouched",
             why);
    co_return Unexpected{
        Reply{ReplyCode::kCannotOpenDataConnection, "TLS handshake on the data connection failed."}};
  }
  auto facts = tls::SessionBinding::facts(stream);
  last_tls_ = std::move(facts.description);
  ctx_.live->set_data_tls_reused(facts.resumed);
  obs::metrics().handshake(obs::Channel::kData,
                           facts.resumed ? obs::Handshake::kResumed : obs::Handshake::kFull);
  if (facts.resumed) co_return true;
  if (auto refused = refuse_unresumed(stream)) co_return Unexpected{std::move(*refused)};
  co_return true;
}

std::optional<Reply> DataLink::refuse_unresumed(tls::Stream& stream) {
  const auto policy = effective_session_reuse(*ctx_.config, ctx_.state.user.get(), ctx_.peer);
  if (policy == config::SessionReuse::kOff) return std::nullopt;
  // SECURITY: only this control connection's TLS session can be resumed here (the session id context
  // is private to it), so a full handshake means either a client that does not resume, or someone
  // else who connected to the data port.
  if (policy == config::SessionReuse::kReport) {
    obs::count(obs::metrics().tls_reuse_reported);
    ctx_.log(spdlog::level::warn, "tls_reuse",
             "data connection did not resume the control connection's TLS session; accepted because {} "
             "(\"require\" would refuse it)",
             session_reuse_setting(*ctx_.config, ctx_.state.user.get(), ctx_.peer));
    return std::nullopt;
  }
  // From another address than the control connection (possible with passive.require_same_peer = false):
  // a thief, counted towards a ban. From the client itself it is a client that does not resume TLS
  // sessions, which is refused but not punished.
  std::optional<asio::ip::address> stranger;
  if (std::error_code pec; !ctx_.listener.proxy_protocol) {
    const auto from = normalize(stream.socket().remote_endpoint(pec).address());
    if (!pec && from != ctx_.peer) stranger = from;
  }
  const bool from_client =
      !stranger && (ctx_.data.options().require_same_peer || !ctx_.listener.proxy_protocol);
  if (ctx_.control_cleared && from_client) {
    // After CCC a client may no longer have the control connection's TLS session to resume: lftp drops
    // it with the control connection's TLS and does full handshakes. Accepted from the client's own
    // address, logged and counted as under "report"; from anywhere else refused as always.
    obs::count(obs::metrics().tls_reuse_reported);
    ctx_.log(spdlog::level::warn, "tls_reuse",
             "data connection did not resume the TLS session the control connection had before CCC; "
             "accepted because it comes from the client's address");
    return std::nullopt;
  }
  obs::metrics().data_failure(obs::DataFailure::kTlsReuseRefused);
  if (stranger)
    report_offence(
        ctx_.services, *ctx_.config, *stranger, Offence::kProtocol,
        fmt::format("reason=data connection without the control connection's TLS session s={}", ctx_.id));
  ctx_.log(spdlog::level::warn, "data_failed",
           "data connection refused: it did not resume the control connection's TLS session; fix: a "
           "client that does not reuse TLS sessions needs tls_session_reuse = \"off\" for its user or "
           "network ({}), otherwise another host connected to the data port",
           session_reuse_setting(*ctx_.config, ctx_.state.user.get(), ctx_.peer));
  return Reply{ReplyCode::kNetworkProtocolNotSupported,
               "Data connection refused: TLS session of the control connection not resumed. "
               "Use a client that reuses TLS sessions."};
}

Task<std::error_code> DataLink::close(tls::Stream& stream, Duration bound) {
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
  closing_ = tls::Closing::start(
      std::move(stream), tls::kPeerCloseWait,
      [id = ctx_.id, client = ctx_.peer.to_string(), user = ctx_.state.user_name] {
        obs::session_event(spdlog::level::debug, {.id = id, .client = client, .user = user}, "tls_close",
                           fmt::format("data connection closed without the client's close_notify (none "
                                       "within {})",
                                       format_duration(tls::kPeerCloseWait)));
      });
  co_return std::error_code{};
}

}  // namespace ftpsd::session
