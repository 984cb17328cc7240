// USER PASS ACCT REIN QUIT HOST: login and session life (RFC 959 §4.1.1, RFC 7151).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "auth/password.hpp"
#include "obs/metrics.hpp"
#include "session/abuse.hpp"
#include "session/handlers/handlers.hpp"
#include "session/security_policy.hpp"
#include "util/limits.hpp"

namespace ftpsd::session::handlers {
namespace {

// authenticate's reason when the cluster's database is down and the user is not in the cache.
constexpr std::string_view kDirectoryUnavailable = "user database unreachable";

bool is_anonymous_name(std::string_view name) {
  return name == "anonymous" || name == "ftp";
}

// The domain's users as they are now: a user deleted, disabled or given a new password by a reload (the
// Manager's, SIGHUP) counts for a session that connected before it, though the rest of the session's
// configuration stays as it was when it started.
std::shared_ptr<const auth::UserStore> current_users(const SessionContext& ctx) {
  const auto now = ctx.services.snapshot().by_name(ctx.domain->name);
  return now != nullptr ? now->users : ctx.domain->users;
}

// Looks the user up and checks the password on the blocking pool. nullptr: login refused (the reason
// is logged, never told to the client).
Task<std::shared_ptr<const auth::User>> authenticate(SessionContext& ctx, std::string password,
                                                     std::string& why) {
  const auto& cfg = *ctx.config;
  const std::string name = ctx.state.user_name;
  if (cfg.users.anonymous && is_anonymous_name(name)) {
    co_return std::make_shared<const auth::User>(auth::User{.name = name,
                                                            .password_hash = {},
                                                            .root = cfg.users.anonymous_root,
                                                            .write = false,
                                                            .anonymous = true});
  }
  if (ctx.services.directory) {
    const auto directory = ctx.services.directory;
    const std::string domain = ctx.domain_name();
    const auto check = co_await ctx.blocking([&] { return directory->check_login(domain, name, password); });
    switch (check.outcome) {
      case auth::LoginOutcome::kOk:
        co_return check.user;
      case auth::LoginOutcome::kWrongPassword:
        why = "wrong password";
        break;
      case auth::LoginOutcome::kUnknownUser:
        why = "unknown user";
        break;
      case auth::LoginOutcome::kUnavailable:
        why = kDirectoryUnavailable;
        break;
    }
    co_return nullptr;
  }
  auto found = auth::share_user(current_users(ctx), name);
  const bool ok = co_await ctx.blocking([&] {
    if (!found) {
      auth::verify_dummy(password);  // same time as a wrong password: no user enumeration
      return false;
    }
    return auth::verify_password(password, found->password_hash);
  });
  if (!ok) {
    why = found ? "wrong password" : "unknown user";
    co_return nullptr;
  }
  co_return found;
}

// A refused login: the fail2ban line and the ban count, then the growing delay (a timer: the event
// loop goes on serving everyone else), then 530; or 421 and close when the address is now banned.
Task<Reply> login_failed(SessionContext& ctx, std::string user, std::string why, Reply reply) {
  ++ctx.state.failed_logins;
  obs::count(obs::metrics().logins_failed);
  ctx.domain_state->logins_failed.fetch_add(1, std::memory_order_relaxed);
  // The session log's line (session id, user; JSON event "login_failed"); report_offence below writes
  // the fixed-format line that fail2ban matches.
  ctx.log(spdlog::level::warn, "login_failed", "login failed for user '{}': {}", log_safe(user), why);
  const auto result = report_offence(ctx.services, *ctx.config, ctx.peer, Offence::kLogin,
                                     fmt::format("user=\"{}\" reason={} s={}", log_safe(user), why, ctx.id));
  const auto delay =
      result.exempt
          ? Duration::zero()
          : login_delay(ctx.config->bans, std::max<std::size_t>(result.recent, ctx.state.failed_logins));
  if (delay.count() > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(kTuple);
  }
  if (result.banned)
    co_return Reply{ReplyCode::kServiceUnavailable, "Too many failed logins from your address; closing.",
                    protocol::AfterReply::kClose};
  co_return reply;
}

}  // namespace

namespace {

// Opens the user's root and marks the session logged in; a root that cannot be opened refuses the
// login with the same text as a wrong password (the detail goes to the log).
Task<Reply> finish_login(SessionContext& ctx, std::shared_ptr<const auth::User> user, Reply ok) {
  // A disabled account (enabled = false): said only once the password (or certificate) proved who it
  // is, so it tells a guesser nothing; not counted towards a ban.
  if (!user->enabled) {
    ctx.log(spdlog::level::warn, "login_refused", "login refused: client={} user=\"{}\" reason=disabled",
            ctx.peer.to_string(), log_safe(user->name));
    ctx.state.phase = LoginPhase::kAwaitingUser;
    obs::count(obs::metrics().logins_failed);
    ctx.domain_state->logins_failed.fetch_add(1, std::memory_order_relaxed);
    co_return Reply{ReplyCode::kNotLoggedIn, "This account is disabled."};
  }
  // The per-user session limit (anonymous users share no account: only the per-address limit applies).
  net::KeyedCounter::Lease slot;
  if (!user->anonymous) {
    const auto limit = user->max_sessions.value_or(ctx.config->server.max_sessions_per_user);
    // The same name in two domains is two accounts.
    const std::string key =
        ctx.domain_name() == "default" ? user->name : ctx.domain_name() + "\n" + user->name;
    auto lease = ctx.services.sessions_per_user.try_acquire(key, limit);
    if (!lease) {
      obs::count(obs::metrics().refused_per_user);
      ctx.log(spdlog::level::warn, "login_refused",
              "login refused: client={} user=\"{}\" reason=max_sessions per user ({}) reached",
              ctx.peer.to_string(), log_safe(user->name), limit);
      ctx.state.phase = LoginPhase::kAwaitingUser;
      co_return Reply{ReplyCode::kServiceUnavailable, "Too many sessions for this user; try again later.",
                      protocol::AfterReply::kClose};
    }
    slot = std::move(*lease);
  }
  auto fs = co_await ctx.blocking([&] { return ctx.services.roots.open(user->root.string()); });
  if (!fs) {
    ctx.log(spdlog::level::err, "login_failed",
            "login refused: the root folder {} of user '{}' cannot be opened: {}", user->root.string(),
            user->name, fs.error().message());
    ctx.state.phase = LoginPhase::kAwaitingUser;
    obs::count(obs::metrics().logins_failed);
    ctx.domain_state->logins_failed.fetch_add(1, std::memory_order_relaxed);
    co_return Reply{ReplyCode::kNotLoggedIn, "Login incorrect."};
  }
  obs::count(obs::metrics().logins_ok);
  ctx.domain_state->logins_ok.fetch_add(1, std::memory_order_relaxed);
  ctx.state.fs = std::move(*fs);
  ctx.state.user = std::move(user);
  ctx.state.user_slot = std::move(slot);
  ctx.state.phase = LoginPhase::kLoggedIn;
  ctx.state.cwd = vfs::VirtualPath();
  ctx.live->set_user(ctx.state.user_name);
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

// "alice@ftp.acme.example" or "alice@acme": for clients that send neither SNI nor HOST, the part after
// the last '@' names the domain (one of its hosts, or its name) and the rest is the user. A name that
// exists as written in the session's domain (e-mail-like user names) is left as it is. Returns the user
// name to log in as.
std::string follow_user_name(SessionContext& ctx, const std::string& name) {
  if (ctx.domain_choice != DomainChoice::kNone) return name;
  const auto at = name.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == name.size()) return name;
  if (auth::share_user(ctx.domain->users, name) != nullptr) return name;
  const std::string_view suffix = std::string_view(name).substr(at + 1);
  auto named = ctx.snapshot.by_host(suffix);
  if (named == nullptr) named = ctx.snapshot.by_name(suffix);
  if (named == nullptr) return name;
  ctx.enter_domain(std::move(named), DomainChoice::kUserName);
  return name.substr(0, at);
}

// An IP address as HOST may carry it (RFC 7151 §3: "[2001:db8::1]" or "192.0.2.1").
bool is_address_literal(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return true;
  std::error_code ec;
  (void)asio::ip::make_address_v4(std::string(host), ec);
  return !ec;
}

}  // namespace

Task<Reply> user(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.logged_in())
    co_return Reply{ReplyCode::kBadSequence, "Already logged in; use REIN to change user."};
  if (cmd.argument.size() > limits::kMaxUserName)
    co_return Reply{ReplyCode::kBadArgument, "User name too long."};
  const auto before = ctx.domain;
  ctx.state.user_name = follow_user_name(ctx, cmd.argument);
  const std::string& name = ctx.state.user_name;
  // SECURITY: the domain the name chose may want TLS for logins, which the session's first domain did
  // not (the command table checked that one): no password in clear for it either.
  if (ctx.domain != before && !ctx.control.secure()) {
    const auto user = auth::share_user(ctx.domain->users, name);
    if (effective_tls_required(*ctx.config, user.get()) != config::TlsRequired::kNone) {
      ctx.log(spdlog::level::info, "tls_required", "USER refused on a clear control connection: {}",
              tls_required_setting(*ctx.config, user.get()));
      co_return Reply{ReplyCode::kNotLoggedIn, "Login only over TLS: send AUTH TLS first."};
    }
  }
  const bool anonymous = ctx.config->users.anonymous && is_anonymous_name(name);
  // [cluster]: the database's record decides what comes before PASS (the user's own tls_required, a
  // certificate login), not the users file. Looked up on the blocking pool, and only when it matters.
  std::shared_ptr<const auth::User> record;
  if (ctx.services.directory && !anonymous && (!ctx.control.secure() || !ctx.client_certificate.empty())) {
    const auto directory = ctx.services.directory;
    const std::string domain = ctx.domain_name();
    const std::string wanted = name;
    const auto check = co_await ctx.blocking([&] { return directory->look_up(domain, wanted); });
    if (check.outcome == auth::LoginOutcome::kUnavailable && !ctx.client_certificate.empty()) {
      ctx.log(spdlog::level::warn, "login_unavailable",
              "login of user '{}' not possible: the user database is unreachable and the user is not in "
              "this node's cache",
              log_safe(name));
      co_return Reply{ReplyCode::kServiceUnavailable,
                      "The user database is unreachable and your account is not cached on this server; try "
                      "again later.",
                      protocol::AfterReply::kClose};
    }
    record = check.user;
    if (!ctx.control.secure() &&
        effective_tls_required(*ctx.config, record.get()) != config::TlsRequired::kNone) {
      ctx.log(spdlog::level::info, "tls_required", "USER refused on a clear control connection: {}",
              tls_required_setting(*ctx.config, record.get()));
      co_return Reply{ReplyCode::kNotLoggedIn, "Login only over TLS: send AUTH TLS first."};
    }
  }
  ctx.state.phase = LoginPhase::kAwaitingPassword;
  if (anonymous)
    co_return Reply{ReplyCode::kNeedPassword, "Anonymous login ok, send your e-mail address as password."};
  if (!ctx.client_certificate.empty()) {
    auto found = ctx.services.directory ? record : auth::share_user(current_users(ctx), name);
    if (!found || !certificate_matches(ctx, *found)) {
      ctx.state.phase = LoginPhase::kAwaitingUser;
      // Arguments as locals first: clang 14 mishandles temporaries inside a co_await expression.
      std::string why =
          "client certificate " + log_safe(ctx.client_certificate.front()) + " not of this user";
      Reply refused{ReplyCode::kNotLoggedIn, "Your client certificate is not for this user."};
      co_return co_await login_failed(ctx, name, std::move(why), std::move(refused));
    }
    if (ctx.config->tls.certificate_login) {
      // RFC 2228: 232, logged in on the strength of the security exchange; no password is asked.
      co_return co_await finish_login(
          ctx, std::move(found),
          Reply{ReplyCode::kLoggedInBySecurityData, "User logged in, authorized by the client certificate."});
    }
  }
  co_return Reply{ReplyCode::kNeedPassword, "Please specify the password."};
}

Task<Reply> pass(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.logged_in()) co_return Reply{ReplyCode::kBadSequence, "Already logged in."};
  if (ctx.state.phase != LoginPhase::kAwaitingPassword)
    co_return Reply{ReplyCode::kBadSequence, "Login with USER first."};
  std::string why;
  auto user = co_await authenticate(ctx, cmd.argument, why);
  if (!user && why == kDirectoryUnavailable) {
    // Not the client's fault: no failed login counted, no ban; the session ends so that the client
    // tries again (perhaps on another node).
    ctx.state.phase = LoginPhase::kAwaitingUser;
    ctx.log(spdlog::level::warn, "login_unavailable",
            "login of user '{}' not possible: the user database is unreachable and the user is not in "
            "this node's cache",
            log_safe(ctx.state.user_name));
    co_return Reply{ReplyCode::kServiceUnavailable,
                    "The user database is unreachable and your account is not cached on this server; try "
                    "again later.",
                    protocol::AfterReply::kClose};
  }
  if (!user) {
    ctx.state.phase = LoginPhase::kAwaitingUser;
    Reply refused{ReplyCode::kNotLoggedIn, "Login incorrect."};
    co_return co_await login_failed(ctx, ctx.state.user_name, std::move(why), std::move(refused));
  }
  co_return co_await finish_login(ctx, std::move(user), Reply{ReplyCode::kLoggedIn, "Login successful."});
}

Task<Reply> acct(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kNotImplementedSuperfluous, "ACCT not needed."};
}

Task<Reply> rein(SessionContext& ctx, const Command&) {
  if (ctx.state.logged_in()) ctx.log(spdlog::level::info, "logout", "logged out (REIN)");
  co_await ctx.data_link.reset();
  // The control connection stays as it is (TLS stays TLS), and with it the data protection level.
  SessionState fresh;
  if (ctx.control.secure()) {
    fresh.pbsz = ctx.state.pbsz;
    fresh.protection = ctx.state.protection;
  }
  ctx.state = std::move(fresh);
  ctx.live->set_user({});
  // HOST may be sent again (RFC 7151), and a user@host name may choose another domain: the session is
  // back in the domain it began in. SNI and the listener's choice belong to the connection and stay.
  if (ctx.domain_choice == DomainChoice::kHost || ctx.domain_choice == DomainChoice::kUserName)
    ctx.enter_domain(ctx.snapshot.default_domain(), DomainChoice::kNone);
  co_return Reply{ReplyCode::kServiceReady, "Service ready for new user."};
}

Task<Reply> quit(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kClosing, "Goodbye.", protocol::AfterReply::kClose};
}

// RFC 7151: the site the client wants, before USER. Its 220 carries the domain's banner.
Task<Reply> host(SessionContext& ctx, const Command& cmd) {
  if (ctx.state.phase != LoginPhase::kAwaitingUser)
    co_return Reply{ReplyCode::kBadSequence, "HOST must come before USER."};
  if (!ctx.state.host.empty()) co_return Reply{ReplyCode::kBadSequence, "HOST was already sent."};
  if (cmd.argument.size() > 253) co_return Reply{ReplyCode::kBadArgument, "Host name too long."};
  // An address names no site: the session stays where it is. So does any name on a server without
  // domains (nothing to choose among).
  auto named = ctx.snapshot.by_host(cmd.argument);
  if (named == nullptr && !is_address_literal(cmd.argument) && ctx.snapshot.domains.size() > 1) {
    ctx.log(spdlog::level::info, "domain_refused", "HOST {}: no domain has this host name",
            log_safe(cmd.argument));
    co_return Reply{ReplyCode::kNotImplementedForParameter, "Unknown host: no site here has this name."};
  }
  if (named != nullptr && named != ctx.domain) {
    if (ctx.domain_choice == DomainChoice::kListener)
      co_return Reply{ReplyCode::kNotImplementedForParameter, "This address serves another site."};
    if (ctx.domain_choice == DomainChoice::kSni) {
      ctx.log(spdlog::level::warn, "domain_refused", "HOST {} (domain {}) contradicts the TLS server name",
              log_safe(cmd.argument), named->name);
      co_return Reply{ReplyCode::kNotImplementedForParameter,
                      "HOST names another site than the TLS server name (SNI)."};
    }
    ctx.enter_domain(std::move(named), DomainChoice::kHost);
  } else if (named != nullptr && ctx.domain_choice == DomainChoice::kNone) {
    ctx.enter_domain(std::move(named), DomainChoice::kHost);
  }
  ctx.state.host = cmd.argument;  // the certificate's name for an AUTH TLS without SNI
  co_return Reply{ReplyCode::kServiceReady, ctx.config->server.banner};
}

}  // namespace ftpsd::session::handlers
