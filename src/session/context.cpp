#include "session/context.hpp"

#include <fmt/format.h>

#include "obs/metrics.hpp"
#include "runtime/timeout.hpp"
#include "session/abuse.hpp"
#include "tls/closure.hpp"

namespace ftpsd::session {
namespace {

// CCC: how long the client may take to start the TLS closure itself before ours goes first.
constexpr Duration kCccClientFirst = std::chrono::milliseconds(250);

// The domain a connection to `listener` starts in: the one it is tied to, else the default. Null: the
// listener's domain is gone (a reload removed it).
std::shared_ptr<const Domain> first_domain(const Snapshot& snapshot, const config::ListenerConfig& listener) {
  if (listener.domain.empty()) return snapshot.default_domain();
  return snapshot.by_name(listener.domain);
}

const Domain& usable(const Snapshot& snapshot, const std::shared_ptr<const Domain>& domain) {
  return domain ? *domain : *snapshot.default_domain();
}

}  // namespace

std::string_view describe(DomainChoice how) noexcept {
  switch (how) {
    case DomainChoice::kNone:
      return "the default";
    case DomainChoice::kListener:
      return "by the listener";
    case DomainChoice::kSni:
      return "by the TLS server name";
    case DomainChoice::kHost:
      return "by HOST";
    case DomainChoice::kUserName:
      return "by the user name";
  }
  return "?";
}

SessionContext::SessionContext(Services& svc, Snapshot snap, std::uint64_t session_id,
                               ControlTransport& transport, const config::ListenerConfig& listener_cfg,
                               std::optional<asio::ip::address> client)
    : services(svc),
      snapshot(std::move(snap)),
      domain(first_domain(snapshot, listener_cfg)),
      domain_choice(listener_cfg.domain.empty() ? DomainChoice::kNone : DomainChoice::kListener),
      domain_state(&svc.domain_state(usable(snapshot, domain).name)),
      config(usable(snapshot, domain).config),
      listener(listener_cfg),
      id(session_id),
      peer(normalize(client ? *client : transport.remote_address())),
      local(normalize(transport.local_address())),
      tls(usable(snapshot, domain).tls ? usable(snapshot, domain).tls->current() : nullptr),
      control(transport, *svc.clock),
      data(transport.executor(), *usable(snapshot, domain).ports, peer, local,
           DataChannelOptions::from(*config, listener_cfg)),
      data_link(*this),
      // An abort ends the pending accept or connect, and an early TLS handshake, too.
      transfer(transport.executor(), [this] { data_link.abort(); }),
      last_activity(svc.clock->now()),
      connected_at(last_activity) {
  tls.set_host_hint(&state.host);
  // SECURITY: a connection to our passive port from another address is someone trying to steal the
  // transfer: it counts towards a ban of that address.
  data.on_foreign_peer([this](const asio::ip::address& thief) {
    report_offence(services, *config, thief, Offence::kProtocol,
                   fmt::format("reason=data connection to the passive port of another client s={}", id));
  });
}

void SessionContext::enter_domain(std::shared_ptr<const Domain> next, DomainChoice how) {
  domain = std::move(next);
  domain_choice = how;
  domain_state = &services.domain_state(domain->name);
  config = domain->config;
  data.reconfigure(*domain->ports, DataChannelOptions::from(*config, listener));
  live->set_domain(domain->name);
  log(spdlog::level::info, "domain", "domain {} ({})", domain->name, describe(how));
}

const std::string& SessionContext::domain_name() const noexcept {
  static const std::string kDefault = "default";
  return domain ? domain->name : kDefault;
}

void SessionContext::log_fields(spdlog::level::level_enum level, std::string_view event,
                                std::string_view message, std::initializer_list<obs::Field> fields) const {
  const std::string client = peer.to_string();
  obs::session_event(level, {.id = id, .client = client, .user = state.user_name, .domain = domain_name()},
                     event, message, fields);
}

Task<void> SessionContext::preliminary(const Reply& reply) {
  co_await control.send(reply);
  transfer.replied_first();  // wakes a STAT waiting for it; a NOOP waits for the end of the transfer
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
  if (!co_await follow_server_name(facts.server_name)) co_return false;
  obs::metrics().handshake(obs::Channel::kControl,
                           facts.resumed ? obs::Handshake::kResumed : obs::Handshake::kFull);
  gauge.set_tls(true);
  live->set_tls(facts.description);
  log(spdlog::level::info, "tls", "control connection secured: {}{}", facts.description,
      client_certificate.empty() ? "" : ", client certificate " + client_certificate.front());
  co_return true;
}

Task<bool> SessionContext::follow_server_name(const std::string& server_name) {
  if (server_name.empty() || state.logged_in() || domain_choice == DomainChoice::kListener) co_return true;
  auto named = snapshot.by_host(server_name);
  if (named == nullptr || named == domain) co_return true;
  if (domain_choice == DomainChoice::kNone) {
    enter_domain(std::move(named), DomainChoice::kSni);
    co_return true;
  }
  // SECURITY: HOST chose one site and the TLS handshake asked for another (a certificate for one name,
  // the users of another): refused, as ProFTPD does.
  log(spdlog::level::warn, "domain_refused", "TLS server name {} (domain {}) contradicts HOST {} (domain {})",
      log_safe(server_name), named->name, log_safe(state.host), domain_name());
  co_await control.send(Reply{ReplyCode::kServiceUnavailable,
                              "The TLS server name names another site than HOST; closing.",
                              protocol::AfterReply::kClose});
  co_return false;
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
  live->set_tls({});
  log(spdlog::level::info, "ccc", "control connection back to clear text (CCC)");
  co_return true;
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
