// PASV EPSV PORT EPRT: preparing the data connection (RFC 959 §4.1.2, RFC 2428).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "inet/ip_network.hpp"
#include "protocol/host_port.hpp"
#include "session/abuse.hpp"
#include "session/handlers/handlers.hpp"

namespace ftpsd::session::handlers {
namespace {

bool ipv6_control(const SessionContext& ctx) {
  return ctx.local.is_v6();
}

Reply epsv_all_in_effect() {
  return {ReplyCode::kBadSequence, "EPSV ALL is in effect: only EPSV may be used."};
}

// A bounce attempt counts towards a ban of the client's address; true when it is banned now.
bool abuse(SessionContext& ctx, const std::string& detail) {
  return report_offence(ctx.services, *ctx.config, ctx.peer, Offence::kProtocol, detail).banned;
}

Reply banned_reply() {
  return {ReplyCode::kServiceUnavailable, "Too many refused commands from your address; closing.",
          protocol::AfterReply::kClose};
}

// SECURITY: active mode connects only to the control peer, and never to a privileged port: no FXP,
// no bounce attacks (RFC 2577 §3) through this server.
Task<Reply> prepare_active(SessionContext& ctx, const protocol::HostPort& target, std::string_view verb) {
  if (!ctx.config->active.enabled)
    co_return Reply{ReplyCode::kNotImplemented, "Active mode is disabled on this server; use PASV or EPSV."};
  std::error_code ec;
  const auto address = normalize(asio::ip::make_address(target.address, ec));
  if (!ec && address != ctx.peer && !inet::is_public(address) && inet::is_public(ctx.peer)) {
    // The client names its own private address: a NAT router between us rewrote its source but not
    // the PORT text (no FTP helper, or FTPS that no helper can read).
    ctx.log(spdlog::level::warn, "port_refused",
            "{} to private {} refused: the client connects from public {}, so it is behind NAT; "
            "it should use passive mode",
            verb, target.address, ctx.peer.to_string());
    co_return Reply{ReplyCode::kBadArgument, std::string(verb) + " names the private address " +
                                                 target.address + " but you connect from " +
                                                 ctx.peer.to_string() +
                                                 ": you are behind NAT; use passive mode (PASV or EPSV)."};
  }
  if (ec || address != ctx.peer) {
    ctx.log(spdlog::level::warn, "port_refused", "{} to {} refused: not the control peer {}", verb,
            target.address, ctx.peer.to_string());
    if (abuse(ctx, fmt::format("reason={} to another address ({}) s={}", verb, target.address, ctx.id)))
      co_return banned_reply();
    co_return Reply{ReplyCode::kBadArgument,
                    std::string(verb) + " must name your own address; other hosts are refused."};
  }
  if (target.port < 1024) {
    ctx.log(spdlog::level::warn, "port_refused", "{} to privileged port {} refused", verb, target.port);
    if (abuse(ctx, fmt::format("reason={} to port {} s={}", verb, target.port, ctx.id)))
      co_return banned_reply();
    co_return Reply{ReplyCode::kBadArgument, std::string(verb) + " to a port below 1024 is refused."};
  }
  co_await ctx.data_link.reset();
  ctx.data.set_active(asio::ip::tcp::endpoint(address, target.port));
  co_return Reply{ReplyCode::kOk, std::string(verb) + " command successful. Consider using EPSV."};
}

// A new passive listener (the previous data connection, prepared or accepted early, is forgotten).
// With PROT P its connection is accepted, and its TLS handshake run, before the transfer command.
Task<Result<std::uint16_t, DataError>> listen_passive(SessionContext& ctx) {
  co_await ctx.data_link.reset();
  auto port = co_await ctx.data.listen_passive();
  if (port && ctx.state.protection == DataProtection::kPrivate && ctx.tls.configured())
    ctx.data_link.start_early();
  co_return port;
}

}  // namespace

Task<Reply> pasv(SessionContext& ctx, const Command&) {
  if (ctx.state.epsv_all) co_return epsv_all_in_effect();
  // A 227 reply can only carry an IPv4 address (RFC 959); RFC 2428's EPSV works for both families.
  if (!ctx.peer.is_v4())
    co_return Reply{ReplyCode::kNetworkProtocolNotSupported, "PASV works only over IPv4; use EPSV."};
  const auto choice = ctx.domain->passive_policy->choose(ctx.peer, ctx.local);
  if (!choice.address.is_v4())
    co_return Reply{ReplyCode::kNetworkProtocolNotSupported, "PASV works only over IPv4; use EPSV."};
  if (inet::is_public(ctx.peer) && !inet::is_public(choice.address))
    ctx.log(spdlog::level::warn, "passive",
            "PASV gives the {} address {} ({}) to a client on the internet: it cannot connect there; "
            "set passive.address to this server's public address or host name",
            inet::describe(inet::classify(choice.address)), choice.address.to_string(),
            net::describe(choice.source));
  auto port = co_await listen_passive(ctx);
  if (!port) co_return data_error_reply(port.error());
  co_return Reply{
      ReplyCode::kEnteringPassive,
      protocol::format_pasv(choice.address.to_string(), ctx.domain->passive_policy->advertised_port(*port))};
}

Task<Reply> epsv(SessionContext& ctx, const Command& cmd) {
  auto arg = protocol::parse_epsv(cmd.argument);
  const std::string supported = ipv6_control(ctx) ? "(2)" : "(1)";
  if (!arg && arg.error() == protocol::HostPortError::kUnsupportedProtocol)
    co_return Reply{ReplyCode::kNetworkProtocolNotSupported,
                    "Network protocol not supported, use " + supported};
  if (!arg) co_return Reply{ReplyCode::kBadArgument, "Usage: EPSV [1|2|ALL]."};
  if (arg->kind == protocol::EpsvArgument::Kind::kAll) {
    ctx.state.epsv_all = true;
    co_return Reply{ReplyCode::kOk, "EPSV ALL ok."};
  }
  if (arg->kind == protocol::EpsvArgument::Kind::kProtocol && (arg->protocol == 2) != ipv6_control(ctx))
    co_return Reply{ReplyCode::kNetworkProtocolNotSupported,
                    "Network protocol not supported, use " + supported};
  auto port = co_await listen_passive(ctx);
  if (!port) co_return data_error_reply(port.error());
  co_return Reply{ReplyCode::kEnteringExtendedPassive,
                  protocol::format_epsv(ctx.domain->passive_policy->advertised_port(*port))};
}

Task<Reply> port(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.epsv_all) co_return epsv_all_in_effect();
  auto target = protocol::parse_port(cmd.argument);
  if (!target) co_return Reply{ReplyCode::kBadArgument, "Syntax error in PORT: use h1,h2,h3,h4,p1,p2."};
  co_return co_await prepare_active(ctx, *target, "PORT");
}

Task<Reply> eprt(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.epsv_all) co_return epsv_all_in_effect();
  auto target = protocol::parse_eprt(cmd.argument);
  if (!target && target.error() == protocol::HostPortError::kUnsupportedProtocol)
    co_return Reply{ReplyCode::kNetworkProtocolNotSupported, "Network protocol not supported, use (1,2)"};
  if (!target)
    co_return Reply{ReplyCode::kBadArgument,
                    "Syntax error in EPRT: use |1|address|port| or |2|address|port|."};
  co_return co_await prepare_active(ctx, *target, "EPRT");
}

}  // namespace ftpsd::session::handlers
