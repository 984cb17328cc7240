#include "cluster/schema.hpp"

#include <fmt/format.h>

#include <array>
#include <string_view>

namespace ftpsd::cluster {
namespace {

// Any fixed number: the key of the advisory lock the migrations of every node take.
constexpr std::string_view kLock = "SELECT pg_advisory_xact_lock(7301160001)";

struct Step {
  int version;
  std::string_view description;
  std::string_view sql;
};

// Append only: a released step is never changed, a change is a new step.
constexpr std::array kSteps{
    Step{1, "users",
         R"(CREATE TABLE users (
  domain text NOT NULL,
  name text NOT NULL,
  password_hash text NOT NULL,
  root text NOT NULL,
  "write" boolean NOT NULL DEFAULT false,
  enabled boolean NOT NULL DEFAULT true,
  tls_required text CHECK (tls_required IN ('none', 'login', 'all')),
  tls_session_reuse text CHECK (tls_session_reuse IN ('off', 'report', 'require')),
  max_sessions integer CHECK (max_sessions >= 0),
  download_rate bigint NOT NULL DEFAULT 0 CHECK (download_rate >= 0),
  upload_rate bigint NOT NULL DEFAULT 0 CHECK (upload_rate >= 0),
  certificate_name text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (domain, name)
))"},
    Step{2, "nodes",
         R"(CREATE TABLE nodes (
  name text PRIMARY KEY,
  number serial UNIQUE,
  version text NOT NULL,
  listeners text NOT NULL,
  passive text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz,
  sessions jsonb NOT NULL DEFAULT '[]'
))"},
    Step{3, "session ends",
         R"(CREATE TABLE session_ends (
  id bigint PRIMARY KEY,
  node text NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
  requested_at timestamptz NOT NULL DEFAULT now()
))"},
    // The bans of every node (README "Shared bans"): network is canonical ("203.0.113.9" for one
    // address, else "203.0.113.0/24"); automatic: after failed logins, else an operator's.
    Step{4, "bans",
         R"(CREATE TABLE bans (
  network text PRIMARY KEY,
  until timestamptz NOT NULL,
  reason text NOT NULL,
  automatic boolean NOT NULL DEFAULT false,
  node text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
))"},
    // The Manager's admin accounts made through it (README "Admin accounts in the database"); those of
    // admin.users_file stay in that file. role: as in the file; created_by: the admin who made it.
    Step{5, "admins",
         R"(CREATE TABLE admins (
  name text PRIMARY KEY,
  password_hash text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
))"},
    // The Manager's audit log of every node (README "The audit log in a cluster"); time: when the node
    // recorded it (to the second), id: the order of the writes.
    Step{6, "audit",
         R"(CREATE TABLE audit (
  id bigserial PRIMARY KEY,
  time timestamptz NOT NULL,
  node text NOT NULL,
  who text NOT NULL,
  address text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  diff text NOT NULL DEFAULT ''
))"},
    Step{7, "audit index", "CREATE INDEX audit_time ON audit (time DESC, id DESC)"},
    // The settings the nodes share (README "Shared settings"): per domain, the shared keys of its passive
    // settings as a JSON object; revision: +1 at each change (the Manager's If-Match, the nodes' poll).
    Step{8, "shared passive settings",
         R"(CREATE TABLE shared_passive (
  domain text PRIMARY KEY,
  revision bigint NOT NULL,
  settings jsonb NOT NULL,
  node text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
))"},
    // Each node's plan of itself for the load balancer (README "The load balancer"): its address, control
    // listeners and passive slice, as JSON; '{}' for a node of an older ftpsd.
    Step{9, "node plans", "ALTER TABLE nodes ADD COLUMN plan jsonb NOT NULL DEFAULT '{}'"},
};
static_assert(kSteps.back().version == kSchemaVersion);

Result<int, DbError> current_version(Connection& db) {
  auto rows = db.exec("SELECT coalesce(max(version), 0) FROM ftpsd_schema");
  if (!rows) return Unexpected{rows.error()};
  return std::stoi(rows->text(0, 0));
}

Result<Migration, DbError> migrate_locked(Connection& db) {
  if (auto made = db.exec("CREATE TABLE IF NOT EXISTS ftpsd_schema (version integer PRIMARY KEY, "
                          "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
      !made)
    return Unexpected{made.error()};
  auto version = current_version(db);
  if (!version) return Unexpected{version.error()};
  const Migration m{.before = *version, .after = kSchemaVersion};
  if (*version > kSchemaVersion)
    return Unexpected{
        DbError{fmt::format("the database's schema is version {}, newer than the {} this ftpsd "
                            "knows: upgrade ftpsd on this node",
                            *version, kSchemaVersion)}};
  for (const auto& step : kSteps) {
    if (step.version <= *version) continue;
    if (auto done = db.exec(step.sql); !done)
      return Unexpected{DbError{
          fmt::format("schema version {} ({}): {}", step.version, step.description, done.error().message),
          done.error().connection_lost}};
    if (auto noted = db.exec("INSERT INTO ftpsd_schema (version, description) VALUES ($1, $2)",
                             {std::to_string(step.version), std::string(step.description)});
        !noted)
      return Unexpected{noted.error()};
  }
  return m;
}

}  // namespace

Result<Migration, DbError> migrate(Connection& db) {
  if (auto begun = db.exec("BEGIN"); !begun) return Unexpected{begun.error()};
  auto done = [&]() -> Result<Migration, DbError> {
    if (auto locked = db.exec(kLock); !locked) return Unexpected{locked.error()};
    return migrate_locked(db);
  }();
  if (!done) {
    (void)db.exec("ROLLBACK");
    return done;
  }
  if (auto committed = db.exec("COMMIT"); !committed) return Unexpected{committed.error()};
  return done;
}

}  // namespace ftpsd::cluster
