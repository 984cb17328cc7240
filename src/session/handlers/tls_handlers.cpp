// AUTH PBSZ PROT CCC: FTP security extensions (RFC 2228, RFC 4217).
#include <spdlog/spdlog.h>

#include "session/handlers/handlers.hpp"
#include "session/security_policy.hpp"
#include "util/text.hpp"

namespace ftpsd::session::handlers {
namespace {}  // namespace

Task<Reply> auth(SessionContext& ctx, const Command& cmd) {
  const std::string mech = ascii_upper(cmd.argument);
  const bool tls = mech == "TLS" || mech == "TLS-C";
  const bool tls_p = mech == "SSL" || mech == "TLS-P";  // old drafts: these also mean PROT P
  if (!tls && !tls_p)
    co_return Reply{ReplyCode::kNotImplementedForParameter,
                    "AUTH " + mech + " is not supported; use AUTH TLS."};
  if (ctx.control.secure()) co_return Reply{ReplyCode::kBadSequence, "The connection is already secured."};
  if (ctx.listener.tls != config::TlsMode::kExplicit || !ctx.tls.configured())
    co_return Reply{ReplyCode::kPolicyRequiresSecurity, "TLS is not enabled on this listener."};
  // RFC 4217 §4: a new security state starts a new login.
  const std::string host = ctx.state.host;
  co_await ctx.data_link.reset();
  ctx.state = SessionState{};
  ctx.state.host = host;
  if (tls_p) {
    ctx.state.pbsz = true;
    ctx.state.protection = DataProtection::kPrivate;
  }
  co_return Reply{ReplyCode::kSecurityExchangeOk, "Proceed with negotiation.",
                  protocol::AfterReply::kUpgradeToTls};
}

Task<Reply> pbsz(SessionContext& ctx, const Command&) {
  if (!ctx.control.secure()) co_return Reply{ReplyCode::kBadSequence, "PBSZ needs AUTH TLS first."};
  ctx.state.pbsz = true;
  // RFC 4217 §8: TLS is a stream, the buffer size is always 0; a client asking for more is told so.
  co_return Reply{ReplyCode::kOk, "PBSZ=0"};
}

Task<Reply> prot(SessionContext& ctx, const Command& cmd) {
  const std::string level = ascii_upper(cmd.argument);
  if (!ctx.control.secure() && ctx.state.protection == DataProtection::kClear && !ctx.state.pbsz)
    co_return Reply{ReplyCode::kBadSequence, "PROT needs AUTH TLS and PBSZ first."};
  if (!ctx.state.pbsz) co_return Reply{ReplyCode::kBadSequence, "PROT needs PBSZ first."};
  if (level == "P") {
    ctx.state.protection = DataProtection::kPrivate;
    co_return Reply{ReplyCode::kOk, "Protection set to Private."};
  }
  if (level == "C") {
    if (effective_tls_required(*ctx.config, ctx.state.user.get()) == config::TlsRequired::kAll) {
      ctx.log(spdlog::level::info, "tls_required", "PROT C refused: {}",
              tls_required_setting(*ctx.config, ctx.state.user.get()));
      co_return Reply{ReplyCode::kPolicyRequiresSecurity,
                      "PROT C refused: data connections must be protected; use PROT P."};
    }
    ctx.state.protection = DataProtection::kClear;
    co_return Reply{ReplyCode::kOk, "Protection set to Clear."};
  }
  if (level == "S" || level == "E")
    co_return Reply{ReplyCode::kProtectionLevelNotSupported,
                    "PROT " + level + " is not supported; use C or P."};
  co_return Reply{ReplyCode::kNotImplementedForParameter, "Unknown protection level; use C or P."};
}

Task<Reply> ccc(SessionContext& ctx, const Command&) {
  if (!ctx.control.secure()) co_return Reply{ReplyCode::kBadSequence, "The connection is not secured."};
  if (!ctx.config->tls.allow_ccc) {
    ctx.log(spdlog::level::info, "ccc", "CCC refused: tls.allow_ccc = false");
    co_return Reply{ReplyCode::kPolicyRequiresSecurity,
                    "CCC is not allowed on this server: the control connection stays protected."};
  }
  co_return Reply{ReplyCode::kOk, "Clearing the control channel.", protocol::AfterReply::kDowngradeToClear};
}

}  // namespace ftpsd::session::handlers
