#include "cluster/user_table.hpp"

#include <fmt/format.h>

#include "config/names.hpp"

namespace ftpsd::cluster {
namespace {

constexpr std::string_view kColumns =
    R"(name, password_hash, root, "write", enabled, tls_required, tls_session_reuse, max_sessions,
       download_rate, upload_rate, certificate_name)";

// A row's version tag (see UserRow), as SQL over the users table.
constexpr std::string_view kTag = "((extract(epoch from updated_at) * 1000000)::bigint)::text";

std::uint64_t to_u64(const std::string& text) {
  return static_cast<std::uint64_t>(std::stoull(text));
}

auth::User user_of(const Rows& rows, int row) {
  auth::User u;
  u.name = rows.text(row, 0);
  u.password_hash = rows.text(row, 1);
  u.root = rows.text(row, 2);
  u.write = rows.text(row, 3) == "t";
  u.enabled = rows.text(row, 4) == "t";
  if (!rows.is_null(row, 5)) u.tls_required = config::from_name(config::kTlsRequired, rows.text(row, 5));
  if (!rows.is_null(row, 6))
    u.tls_session_reuse = config::from_name(config::kSessionReuse, rows.text(row, 6));
  if (!rows.is_null(row, 7)) u.max_sessions = static_cast<std::size_t>(to_u64(rows.text(row, 7)));
  u.download_rate = to_u64(rows.text(row, 8));
  u.upload_rate = to_u64(rows.text(row, 9));
  u.certificate_name = rows.text(row, 10);
  return u;
}

// $1 domain, $2.. the columns in kColumns' order.
std::vector<std::optional<std::string>> params_of(std::string_view domain, const auth::User& u) {
  std::vector<std::optional<std::string>> p{
      std::string(domain),         u.name, u.password_hash, u.root.string(), u.write ? "true" : "false",
      u.enabled ? "true" : "false"};
  p.emplace_back(u.tls_required ? std::optional<std::string>(config::name(*u.tls_required)) : std::nullopt);
  p.emplace_back(u.tls_session_reuse ? std::optional<std::string>(config::name(*u.tls_session_reuse))
                                     : std::nullopt);
  p.emplace_back(u.max_sessions ? std::optional<std::string>(std::to_string(*u.max_sessions)) : std::nullopt);
  p.emplace_back(std::to_string(u.download_rate));
  p.emplace_back(std::to_string(u.upload_rate));
  p.emplace_back(u.certificate_name);
  return p;
}

std::string insert_sql(std::string_view on_conflict) {
  return fmt::format(
      "INSERT INTO users (domain, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
      "ON CONFLICT (domain, name) {}",
      kColumns, on_conflict);
}

}  // namespace

Result<std::optional<auth::User>, DbError> find_user(Connection& db, std::string_view domain,
                                                     std::string_view name) {
  auto rows = db.exec(fmt::format("SELECT {} FROM users WHERE domain = $1 AND name = $2", kColumns),
                      {std::string(domain), std::string(name)});
  if (!rows) return Unexpected{rows.error()};
  if (rows->count() == 0) return std::optional<auth::User>();
  return std::optional<auth::User>(user_of(*rows, 0));
}

Result<std::optional<UserRow>, DbError> find_user_row(Connection& db, std::string_view domain,
                                                      std::string_view name, bool lock) {
  auto rows = db.exec(fmt::format("SELECT {}, {} FROM users WHERE domain = $1 AND name = $2{}", kColumns,
                                  kTag, lock ? " FOR UPDATE" : ""),
                      {std::string(domain), std::string(name)});
  if (!rows) return Unexpected{rows.error()};
  if (rows->count() == 0) return std::optional<UserRow>();
  return std::optional<UserRow>(UserRow{.user = user_of(*rows, 0), .tag = rows->text(0, 11)});
}

Result<std::vector<UserRow>, DbError> list_user_rows(Connection& db, std::string_view domain) {
  auto rows = db.exec(fmt::format("SELECT {}, {} FROM users WHERE domain = $1 ORDER BY name", kColumns, kTag),
                      {std::string(domain)});
  if (!rows) return Unexpected{rows.error()};
  std::vector<UserRow> out;
  out.reserve(static_cast<std::size_t>(rows->count()));
  for (int i = 0; i < rows->count(); ++i)
    out.push_back({.user = user_of(*rows, i), .tag = rows->text(i, 11)});
  return out;
}

Result<std::string, DbError> domain_tag(Connection& db, std::string_view domain) {
  auto rows = db.exec(
      fmt::format("SELECT md5(coalesce(string_agg(name || ':' || {}, ',' ORDER BY name), '')) FROM users "
                  "WHERE domain = $1",
                  kTag),
      {std::string(domain)});
  if (!rows) return Unexpected{rows.error()};
  return rows->text(0, 0);
}

Result<std::vector<auth::User>, DbError> list_users(Connection& db, std::string_view domain) {
  auto rows = db.exec(fmt::format("SELECT {} FROM users WHERE domain = $1 ORDER BY name", kColumns),
                      {std::string(domain)});
  if (!rows) return Unexpected{rows.error()};
  std::vector<auth::User> out;
  out.reserve(static_cast<std::size_t>(rows->count()));
  for (int i = 0; i < rows->count(); ++i) out.push_back(user_of(*rows, i));
  return out;
}

Result<Upsert, DbError> put_user(Connection& db, std::string_view domain, const auth::User& user) {
  // xmax = 0 only for a row this statement inserted (an updated row carries the updating transaction).
  auto rows =
      db.exec(insert_sql(R"(DO UPDATE SET password_hash = EXCLUDED.password_hash, root = EXCLUDED.root,
        "write" = EXCLUDED."write", enabled = EXCLUDED.enabled, tls_required = EXCLUDED.tls_required,
        tls_session_reuse = EXCLUDED.tls_session_reuse, max_sessions = EXCLUDED.max_sessions,
        download_rate = EXCLUDED.download_rate, upload_rate = EXCLUDED.upload_rate,
        certificate_name = EXCLUDED.certificate_name, updated_at = now()
        RETURNING (xmax = 0))"),
              params_of(domain, user));
  if (!rows) return Unexpected{rows.error()};
  return rows->text(0, 0) == "t" ? Upsert::kAdded : Upsert::kUpdated;
}

Result<bool, DbError> add_user(Connection& db, std::string_view domain, const auth::User& user) {
  auto rows = db.exec(insert_sql("DO NOTHING"), params_of(domain, user));
  if (!rows) return Unexpected{rows.error()};
  return rows->affected() == 1;
}

Result<bool, DbError> remove_user(Connection& db, std::string_view domain, std::string_view name) {
  auto rows =
      db.exec("DELETE FROM users WHERE domain = $1 AND name = $2", {std::string(domain), std::string(name)});
  if (!rows) return Unexpected{rows.error()};
  return rows->affected() == 1;
}

}  // namespace ftpsd::cluster
