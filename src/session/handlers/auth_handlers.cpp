// USER PASS ACCT REIN QUIT HOST: login and session life (RFC 959 §4.1.1, RFC 7151).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth/password.hpp"
#include "obs/metrics.hpp"
#include "session/handlers/handlers.hpp"
#include "util/limits.hpp"

namespace ftpsd::session::handlers {
namespace {

bool is_anonymous_name(std::string_view name) {
  return name == "anonymous" || name == "ftp";
}

// Looks the user up and checks the password on the blocking pool. nullopt: login refused (the reason
// is logged, never told to the client).
Task<std::optional<auth::User>> authenticate(SessionContext& ctx, std::string password) {
  const auto& cfg = *ctx.config;
  const std::string name = ctx.state.user_name;
  if (cfg.users.anonymous && is_anonymous_name(name)) {
    co_return auth::User{.name = name,
                         .password_hash = {},
                         .root = cfg.users.anonymous_root,
                         .write = false,
                         .anonymous = true};
  }
  auto found = ctx.snapshot.users->find(name);
  const bool ok = co_await ctx.blocking([&] {
    if (!found) {
      auth::verify_dummy(password);  // same time as a wrong password: no user enumeration
      return false;
    }
    return auth::verify_password(password, found->password_hash);
  });
  if (!ok) {
    ctx.log(spdlog::level::warn, "login_failed", "login failed for user '{}' from {}: {}", name,
            ctx.peer.to_string(), found ? "wrong password" : "unknown user");
    obs::count(obs::metrics().logins_failed);
    co_return std::nullopt;
  }
  co_return found;
}

}  // namespace

namespace {

// Opens the user's root and marks the session logged in; a root that cannot be opened refuses the
// login with the same text as a wrong password (the detail goes to the log).
Task<Reply> finish_login(SessionContext& ctx, auth::User user, Reply ok) {
  auto fs = co_await ctx.blocking([&] { return vfs::LocalFs::open(user.root.string()); });
  if (!fs) {
    ctx.log(spdlog::level::err, "login_failed",
            "login refused: the root folder {} of user '{}' cannot be opened: {}", user.root.string(),
            user.name, fs.error().message());
    ctx.state.phase = LoginPhase::kAwaitingUser;
    obs::count(obs::metrics().logins_failed);
    co_return Reply{ReplyCode::kNotLoggedIn, "Login incorrect."};
  }
  obs::count(obs::metrics().logins_ok);
  ctx.state.fs = std::move(*fs);
  ctx.state.user = std::move(user);
  ctx.state.phase = LoginPhase::kLoggedIn;
  ctx.state.cwd = vfs::VirtualPath();
  ctx.log(spdlog::level::info, "login", "logged in{}",
          ctx.state.user->anonymous ? " (anonymous, read-only)" : "");
  co_return ok;
}

// SECURITY: a verified client certificate must belong to the user it logs in as: its CN or a SAN
// equals the user's certificate_name (or, without one, the user name).
bool certificate_matches(const SessionContext& ctx, const auth::User& user) {
  const std::string& want = user.certificate_name.empty() ? user.name : user.certificate_name;
  const auto& ids = ctx.client_certificate;
  return std::find(ids.begin(), ids.end(), want) != ids.end();
}

}  // namespace

Task<Reply> user(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.logged_in())
    co_return Reply{ReplyCode::kBadSequence, "Already logged in; use REIN to change user."};
  if (cmd.argument.size() > limits::kMaxUserName)
    co_return Reply{ReplyCode::kBadArgument, "User name too long."};
  ctx.state.user_name = cmd.argument;
  ctx.state.phase = LoginPhase::kAwaitingPassword;
  if (ctx.config->users.anonymous && is_anonymous_name(cmd.argument))
    co_return Reply{ReplyCode::kNeedPassword, "Anonymous login ok, send your e-mail address as password."};
  if (!ctx.client_certificate.empty()) {
    auto found = ctx.snapshot.users->find(cmd.argument);
    if (!found || !certificate_matches(ctx, *found)) {
      ctx.log(spdlog::level::warn, "login_failed",
              "login refused: the client certificate ({}) is not that of user '{}'",
              ctx.client_certificate.front(), cmd.argument);
      ctx.state.phase = LoginPhase::kAwaitingUser;
      obs::count(obs::metrics().logins_failed);
      co_return Reply{ReplyCode::kNotLoggedIn, "Your client certificate is not for this user."};
    }
    if (ctx.config->tls.certificate_login) {
      // RFC 2228: 232, logged in on the strength of the security exchange; no password is asked.
      co_return co_await finish_login(
          ctx, std::move(*found),
          Reply{ReplyCode::kLoggedInBySecurityData, "User logged in, authorized by the client certificate."});
    }
  }
  co_return Reply{ReplyCode::kNeedPassword, "Please specify the password."};
}

Task<Reply> pass(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.logged_in()) co_return Reply{ReplyCode::kBadSequence, "Already logged in."};
  if (ctx.state.phase != LoginPhase::kAwaitingPassword)
    co_return Reply{ReplyCode::kBadSequence, "Login with USER first."};
  auto user = co_await authenticate(ctx, cmd.argument);
  if (!user) {
    ctx.state.phase = LoginPhase::kAwaitingUser;
    ++ctx.state.failed_logins;
    co_return Reply{ReplyCode::kNotLoggedIn, "Login incorrect."};
  }
  co_return co_await finish_login(ctx, std::move(*user), Reply{ReplyCode::kLoggedIn, "Login successful."});
}

Task<Reply> acct(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kNotImplementedSuperfluous, "ACCT not needed."};
}

Task<Reply> rein(SessionContext& ctx, const Command&) {
  if (ctx.state.logged_in()) ctx.log(spdlog::level::info, "logout", "logged out (REIN)");
  ctx.data.reset();
  // The control connection stays as it is (TLS stays TLS), and with it the data protection level.
  SessionState fresh;
  if (ctx.control.secure()) {
    fresh.pbsz = ctx.state.pbsz;
    fresh.protection = ctx.state.protection;
  }
  ctx.state = std::move(fresh);
  co_return Reply{ReplyCode::kServiceReady, "Service ready for new user."};
}

Task<Reply> quit(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kClosing, "Goodbye.", protocol::AfterReply::kClose};
}

Task<Reply> host(SessionContext& ctx, const Command& cmd) {
  // RFC 7151 §3: HOST comes before USER; a later one is a sequence error.
  if (ctx.state.phase != LoginPhase::kAwaitingUser)
    co_return Reply{ReplyCode::kBadSequence, "HOST must come before USER."};
  ctx.state.host = cmd.argument;
  co_return Reply{ReplyCode::kServiceReady, "Host accepted."};
}

}  // namespace ftpsd::session::handlers
