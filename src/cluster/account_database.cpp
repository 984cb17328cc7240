#include "cluster/account_database.hpp"

#include <fmt/format.h>

#include "cluster/node_registry.hpp"
#include "cluster/user_table.hpp"

namespace ftpsd::cluster {
namespace {

// The tags as ETags (quoted): "u" and the row's updated_at in microseconds; "d" and the start of the
// md5 of the domain's rows.
std::string row_etag(std::string_view tag) {
  return fmt::format("\"u{}\"", tag);
}

std::string domain_etag(std::string_view tag) {
  return fmt::format("\"d{}\"", tag.substr(0, 16));
}

// A transaction: ROLLBACK unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Connection& db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)db_.exec("ROLLBACK");
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&&) = delete;
  Transaction& operator=(Transaction&&) = delete;

  Result<bool, DbError> begin() {
    auto begun = db_.exec("BEGIN");
    if (!begun) return Unexpected{begun.error()};
    open_ = true;
    return true;
  }
  Result<bool, DbError> commit() {
    auto done = db_.exec("COMMIT");
    open_ = false;
    if (!done) return Unexpected{done.error()};
    return true;
  }

 private:
  Connection& db_;
  bool open_ = false;
};

}  // namespace

AccountDatabase::AccountDatabase(config::ClusterConfig cluster, std::string password)
    : cluster_(std::move(cluster)), password_(std::move(password)) {}

template <typename T>
Result<T, auth::AccountDbError> AccountDatabase::with_db(
    const std::function<Result<T, DbError>(Connection&)>& work) {
  std::lock_guard lock(mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!db_) {
      auto opened = Connection::open(cluster_, password_);
      if (!opened) return Unexpected{auth::AccountDbError{opened.error().message}};
      db_.emplace(std::move(*opened));
    }
    auto done = work(*db_);
    if (done) return std::move(*done);
    const bool lost = done.error().connection_lost || !db_->ok();
    if (lost) db_.reset();
    if (lost && attempt == 0) continue;  // the server restarted since the last call: once more
    return Unexpected{auth::AccountDbError{done.error().message}};
  }
  return Unexpected{auth::AccountDbError{"the database connection was lost"}};
}

Result<auth::TaggedUsers, auth::AccountDbError> AccountDatabase::list_users(std::string_view domain) {
  return with_db<auth::TaggedUsers>([domain](Connection& db) -> Result<auth::TaggedUsers, DbError> {
    // One snapshot for the rows and their tag.
    Transaction tx(db);
    if (auto begun = tx.begin(); !begun) return Unexpected{begun.error()};
    if (auto read_only = db.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"); !read_only)
      return Unexpected{read_only.error()};
    auto rows = list_user_rows(db, domain);
    if (!rows) return Unexpected{rows.error()};
    auto tag = domain_tag(db, domain);
    if (!tag) return Unexpected{tag.error()};
    if (auto done = tx.commit(); !done) return Unexpected{done.error()};
    auth::TaggedUsers out{.users = {}, .tag = domain_etag(*tag)};
    for (auto& r : *rows) out.users.push_back(std::move(r.user));
    return out;
  });
}

Result<std::optional<auth::TaggedUser>, auth::AccountDbError> AccountDatabase::find_user(
    std::string_view domain, std::string_view name) {
  using Found = std::optional<auth::TaggedUser>;
  return with_db<Found>([domain, name](Connection& db) -> Result<Found, DbError> {
    auto row = find_user_row(db, domain, name, false);
    if (!row) return Unexpected{row.error()};
    if (!*row) return Found();
    return Found(auth::TaggedUser{.user = std::move((*row)->user), .tag = row_etag((*row)->tag)});
  });
}

Result<auth::UserChangeResult, auth::AccountDbError> AccountDatabase::change_user(
    std::string_view domain, std::string_view name, auth::UserChange kind,
    const std::optional<std::string>& if_match,
    const std::function<auth::User(const std::optional<auth::User>& existing)>& edit) {
  using auth::UserChangeResult;
  using Outcome = UserChangeResult::Outcome;
  return with_db<UserChangeResult>([&](Connection& db) -> Result<UserChangeResult, DbError> {
    Transaction tx(db);
    if (auto begun = tx.begin(); !begun) return Unexpected{begun.error()};
    // The Manager's changes of one domain one at a time (any node's): the domain's tag stays what was
    // compared until the change is committed.
    if (auto locked = db.exec("SELECT pg_advisory_xact_lock(hashtext('ftpsd users/' || $1)::bigint)",
                              {std::string(domain)});
        !locked)
      return Unexpected{locked.error()};
    auto row = find_user_row(db, domain, name, true);
    if (!row) return Unexpected{row.error()};
    UserChangeResult out;
    if (*row) out.before = (*row)->user;
    if (if_match && !(*row && *if_match == row_etag((*row)->tag))) {
      auto tag = domain_tag(db, domain);
      if (!tag) return Unexpected{tag.error()};
      if (*if_match != domain_etag(*tag)) {
        out.outcome = Outcome::kTagMismatch;
        return out;
      }
    }
    if (kind == auth::UserChange::kAdd && *row) {
      out.outcome = Outcome::kExists;
      return out;
    }
    if (kind != auth::UserChange::kAdd && !*row) {
      out.outcome = Outcome::kMissing;
      return out;
    }
    if (kind == auth::UserChange::kRemove) {
      auto removed = remove_user(db, domain, name);
      if (!removed) return Unexpected{removed.error()};
    } else {
      auth::User next = edit(out.before);
      next.name = std::string(name);
      if (kind == auth::UserChange::kAdd) {
        auto added = add_user(db, domain, next);  // DO NOTHING if `ftpsd user add` was faster
        if (!added) return Unexpected{added.error()};
        if (!*added) {
          out.outcome = Outcome::kExists;
          return out;
        }
      } else if (auto written = put_user(db, domain, next); !written) {
        return Unexpected{written.error()};
      }
      auto again = find_user_row(db, domain, name, false);
      if (!again) return Unexpected{again.error()};
      if (!*again) return Unexpected{DbError{"the row written is gone"}};
      out.after = std::move((*again)->user);
      out.tag = row_etag((*again)->tag);
    }
    if (auto done = tx.commit(); !done) return Unexpected{done.error()};
    return out;
  });
}

Result<std::size_t, auth::AccountDbError> AccountDatabase::end_sessions_elsewhere(std::string_view domain,
                                                                                  std::string_view name) {
  const std::string node = cluster_.node;
  return with_db<std::size_t>([&](Connection& db) -> Result<std::size_t, DbError> {
    // The sessions of the nodes that are up, as their last heartbeat listed them; each node takes its
    // requests at its next heartbeat (NodeRegistry).
    auto asked = db.exec(
        fmt::format("INSERT INTO session_ends (id, node) SELECT (s->>'id')::bigint, n.name FROM nodes n, "
                    "jsonb_array_elements(n.sessions) s WHERE n.name <> $3 AND s->>'domain' = $1 AND "
                    "s->>'user' = $2 AND n.stopped_at IS NULL AND n.heartbeat_at > now() - interval '{} "
                    "seconds' ON CONFLICT (id) DO NOTHING",
                    std::chrono::seconds(kDownAfter).count()),
        {std::string(domain), std::string(name), node});
    if (!asked) return Unexpected{asked.error()};
    return asked->affected();
  });
}

Result<std::vector<auth::StoredAdmin>, auth::AccountDbError> AccountDatabase::list_admins() {
  using Admins = std::vector<auth::StoredAdmin>;
  return with_db<Admins>([](Connection& db) -> Result<Admins, DbError> {
    auto rows = db.exec(
        R"(SELECT name, password_hash, role, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  created_by FROM admins ORDER BY name)");
    if (!rows) return Unexpected{rows.error()};
    Admins out;
    for (int i = 0; i < rows->count(); ++i)
      out.push_back(
          {.admin = {.name = rows->text(i, 0),
                     .password_hash = rows->text(i, 1),
                     .role = auth::parse_admin_role(rows->text(i, 2)).value_or(auth::AdminRole::kViewer)},
           .created = rows->text(i, 3),
           .created_by = rows->text(i, 4)});
    return out;
  });
}

Result<std::optional<auth::Admin>, auth::AccountDbError> AccountDatabase::find_admin(std::string_view name) {
  using Found = std::optional<auth::Admin>;
  return with_db<Found>([name](Connection& db) -> Result<Found, DbError> {
    auto rows = db.exec("SELECT name, password_hash, role FROM admins WHERE name = $1", {std::string(name)});
    if (!rows) return Unexpected{rows.error()};
    if (rows->count() == 0) return Found();
    return Found(
        auth::Admin{.name = rows->text(0, 0),
                    .password_hash = rows->text(0, 1),
                    .role = auth::parse_admin_role(rows->text(0, 2)).value_or(auth::AdminRole::kViewer)});
  });
}

Result<bool, auth::AccountDbError> AccountDatabase::add_admin(const auth::Admin& admin,
                                                              std::string_view created_by) {
  return with_db<bool>([&](Connection& db) -> Result<bool, DbError> {
    auto rows = db.exec(
        "INSERT INTO admins (name, password_hash, role, created_by) "
        "VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (name) DO NOTHING",
        {admin.name, admin.password_hash, std::string(auth::name(admin.role)), std::string(created_by)});
    if (!rows) return Unexpected{rows.error()};
    return rows->affected() == 1;
  });
}

Result<bool, auth::AccountDbError> AccountDatabase::remove_admin(std::string_view name) {
  return with_db<bool>([name](Connection& db) -> Result<bool, DbError> {
    auto rows = db.exec("DELETE FROM admins WHERE name = $1", {std::string(name)});
    if (!rows) return Unexpected{rows.error()};
    return rows->affected() == 1;
  });
}

}  // namespace ftpsd::cluster
