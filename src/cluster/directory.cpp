#include "cluster/directory.hpp"

#include <spdlog/spdlog.h>

#include "auth/password.hpp"
#include "cluster/schema.hpp"
#include "cluster/user_table.hpp"
#include "util/duration.hpp"

namespace ftpsd::cluster {
namespace {

// While the database is away, a login tries to reach it at most this often (the others are answered
// from the cache at once).
constexpr auto kRetryEvery = std::chrono::seconds(1);

}  // namespace

DatabaseDirectory::DatabaseDirectory(config::ClusterConfig cluster, std::string password)
    : cluster_(std::move(cluster)), password_(std::move(password)), cache_(cluster_.cache_ttl) {}

Result<bool, std::string> DatabaseDirectory::start() {
  std::lock_guard lock(mutex_);
  const bool up = connect(true);
  if (schema_too_new_)
    return Unexpected{std::string("cluster: the database's schema is newer than this ftpsd")};
  return up;
}

void DatabaseDirectory::went_down(const std::string& why) {
  db_.reset();
  if (state_ == State::kDown) return;
  state_ = State::kDown;
  spdlog::error(
      "cluster: the user database is unreachable ({}); logins are served from this node's cache (users "
      "who logged in within cluster.cache_ttl = {}), others get 421 until it is back",
      why, format_duration(cluster_.cache_ttl));
}

void DatabaseDirectory::came_up(int schema_version) {
  if (state_ == State::kUp) return;
  if (state_ == State::kDown)
    spdlog::warn("cluster: the user database is reachable again (node {}, schema version {})", cluster_.node,
                 schema_version);
  else
    spdlog::info("cluster: connected to the user database (node {}, schema version {})", cluster_.node,
                 schema_version);
  state_ = State::kUp;
}

bool DatabaseDirectory::connect(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && state_ == State::kDown && now - last_attempt_ < kRetryEvery) return false;
  last_attempt_ = now;
  auto opened = Connection::open(cluster_, password_);
  if (!opened) {
    went_down(opened.error().message);
    return false;
  }
  db_.emplace(std::move(*opened));
  auto migrated = migrate(*db_);
  if (!migrated) {
    schema_too_new_ =
        !migrated.error().connection_lost && migrated.error().message.find("newer than") != std::string::npos;
    went_down(migrated.error().message);
    return false;
  }
  if (migrated->before != migrated->after)
    spdlog::info("cluster: database schema migrated from version {} to {}", migrated->before,
                 migrated->after);
  came_up(migrated->after);
  return true;
}

Result<std::optional<auth::User>, DatabaseDirectory::Unreachable> DatabaseDirectory::fetch(
    std::string_view domain, std::string_view name) {
  std::lock_guard lock(mutex_);
  if (!db_ && !connect(false)) return Unexpected{Unreachable{}};
  auto found = find_user(*db_, domain, name);
  if (!found && found.error().connection_lost) {
    // The server restarted since the last query, or the connection broke: one new connection at once.
    db_.reset();
    if (!connect(true)) return Unexpected{Unreachable{}};
    found = find_user(*db_, domain, name);
  }
  if (!found) {
    if (found.error().connection_lost) {
      went_down(found.error().message);
    } else {
      spdlog::error("cluster: looking up user '{}' of domain {} failed: {}", name, domain,
                    found.error().message);
    }
    return Unexpected{Unreachable{}};
  }
  return std::move(*found);
}

auth::LoginCheck DatabaseDirectory::check_login(std::string_view domain, std::string_view name,
                                                std::string_view password) {
  const auto now = UserCache::Clock::now();
  auto fetched = fetch(domain, name);
  if (!fetched) {
    auto cached = cache_.find(domain, name, now);
    if (!cached) return {.outcome = auth::LoginOutcome::kUnavailable, .user = nullptr};
    if (!auth::verify_password(password, cached->password_hash))
      return {.outcome = auth::LoginOutcome::kWrongPassword, .user = nullptr};
    return {.outcome = auth::LoginOutcome::kOk, .user = std::move(cached)};
  }
  if (!*fetched) {
    cache_.forget(domain, name);
    auth::verify_dummy(password);  // same time as a wrong password: no user enumeration
    return {.outcome = auth::LoginOutcome::kUnknownUser, .user = nullptr};
  }
  auto user = std::make_shared<const auth::User>(std::move(**fetched));
  if (!auth::verify_password(password, user->password_hash)) {
    // A new password in the database: the old record must not serve logins later. (A mere wrong
    // guess keeps it: a guesser must not be able to empty the cache before an outage.)
    if (auto cached = cache_.find(domain, name, now); cached && cached->password_hash != user->password_hash)
      cache_.forget(domain, name);
    return {.outcome = auth::LoginOutcome::kWrongPassword, .user = nullptr};
  }
  cache_.remember(domain, user, now);
  return {.outcome = auth::LoginOutcome::kOk, .user = std::move(user)};
}

auth::LoginCheck DatabaseDirectory::look_up(std::string_view domain, std::string_view name) {
  const auto now = UserCache::Clock::now();
  auto fetched = fetch(domain, name);
  if (!fetched) {
    auto cached = cache_.find(domain, name, now);
    if (!cached) return {.outcome = auth::LoginOutcome::kUnavailable, .user = nullptr};
    return {.outcome = auth::LoginOutcome::kOk, .user = std::move(cached)};
  }
  if (!*fetched) {
    cache_.forget(domain, name);
    return {.outcome = auth::LoginOutcome::kUnknownUser, .user = nullptr};
  }
  return {.outcome = auth::LoginOutcome::kOk,
          .user = std::make_shared<const auth::User>(std::move(**fetched))};
}

}  // namespace ftpsd::cluster
