#include "cluster/audit_sync.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "cluster/schema.hpp"

namespace ftpsd::cluster {
namespace {

constexpr auto kRetryEvery = std::chrono::seconds(1);

constexpr std::string_view kInsert =
    "INSERT INTO audit (time, node, who, address, action, target, diff) "
    "VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7)";
constexpr std::string_view kSelect =
    R"(SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), node, who, address, action, )"
    "target, diff FROM audit ORDER BY time DESC, id DESC LIMIT $1";

}  // namespace

std::vector<AuditRecord> merge_newest_first(std::vector<AuditRecord> theirs, std::vector<AuditRecord> ours,
                                            std::size_t limit) {
  std::vector<AuditRecord> out;
  out.reserve(std::min(limit, theirs.size() + ours.size()));
  std::size_t i = 0;
  std::size_t j = 0;
  while (out.size() < limit && (i < theirs.size() || j < ours.size())) {
    // The times are ISO 8601 in UTC: their text sorts as they do.
    if (j < ours.size() && (i == theirs.size() || ours[j].time >= theirs[i].time))
      out.push_back(std::move(ours[j++]));
    else
      out.push_back(std::move(theirs[i++]));
  }
  return out;
}

AuditSync::AuditSync(config::ClusterConfig cluster, std::string password)
    : cluster_(std::move(cluster)), password_(std::move(password)) {}

AuditSync::~AuditSync() {
  stop();
}

void AuditSync::start() {
  thread_ = std::thread([this] { run(); });
}

void AuditSync::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditSync::add(AuditRecord record) {
  record.node = cluster_.node;
  {
    const std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      if (!full_logged_)
        spdlog::error(
            "cluster: {} audit entries wait for the database; further ones are kept in "
            "admin.audit_file only",
            kMaxQueued);
      full_logged_ = true;
      return;
    }
    queue_.push_back(std::move(record));
  }
  wake_.notify_all();
}

void AuditSync::went_down(const std::string& why) {
  db_.reset();
  {
    const std::lock_guard lock(mutex_);
    up_ = false;
  }
  if (down_logged_) return;
  down_logged_ = true;
  spdlog::error(
      "cluster: the audit database is unreachable ({}); the entries made here are written when "
      "it is back",
      why);
}

bool AuditSync::connect() {
  auto opened = Connection::open(cluster_, password_);
  if (!opened) {
    went_down(opened.error().message);
    return false;
  }
  db_.emplace(std::move(*opened));
  if (auto migrated = migrate(*db_); !migrated) {
    went_down(migrated.error().message);
    return false;
  }
  std::size_t waiting = 0;
  {
    const std::lock_guard lock(mutex_);
    up_ = true;
    waiting = queue_.size();
  }
  if (down_logged_)
    spdlog::warn("cluster: the audit database is reachable again; entries made here meanwhile: {}", waiting);
  down_logged_ = false;
  return true;
}

bool AuditSync::flush() {
  for (;;) {
    AuditRecord next;
    {
      const std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        full_logged_ = false;
        return true;
      }
      next = queue_.front();
    }
    auto written = db_->exec(
        kInsert, {next.time, next.node, next.who, next.address, next.action, next.target, next.diff});
    if (!written && written.error().connection_lost) {
      went_down(written.error().message);
      return false;
    }
    if (!written)
      spdlog::error("cluster: writing the audit entry {} {} failed: {}", next.action, next.target,
                    written.error().message);
    const std::lock_guard lock(mutex_);
    queue_.pop_front();
  }
}

void AuditSync::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (db_ || connect()) (void)flush();
    lock.lock();
    if (up_)
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    else
      wake_.wait_for(lock, kRetryEvery, [&] { return stopping_; });
  }
  lock.unlock();
  if (db_) (void)flush();  // what was recorded just before the stop
}

Result<std::vector<AuditRecord>, std::string> AuditSync::recent(std::size_t limit) {
  const std::lock_guard query_lock(query_mutex_);
  // This node's entries not written yet, read before the rows: one written meanwhile is then in the
  // rows, and its copy here is dropped; none goes missing.
  std::vector<AuditRecord> ours;
  {
    const std::lock_guard lock(mutex_);
    ours.assign(queue_.rbegin(), queue_.rend());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!query_db_) {
      auto opened = Connection::open(cluster_, password_);
      if (!opened) return Unexpected{opened.error().message};
      query_db_.emplace(std::move(*opened));
    }
    auto rows = query_db_->exec(kSelect, {std::to_string(limit)});
    if (!rows) {
      query_db_.reset();
      if (rows.error().connection_lost && attempt == 0) continue;  // the server restarted meanwhile
      return Unexpected{rows.error().message};
    }
    std::vector<AuditRecord> theirs;
    theirs.reserve(static_cast<std::size_t>(rows->count()));
    for (int i = 0; i < rows->count(); ++i)
      theirs.push_back(AuditRecord{.time = rows->text(i, 0),
                                   .node = rows->text(i, 1),
                                   .who = rows->text(i, 2),
                                   .address = rows->text(i, 3),
                                   .action = rows->text(i, 4),
                                   .target = rows->text(i, 5),
                                   .diff = rows->text(i, 6)});
    std::erase_if(ours, [&](const AuditRecord& r) {
      return std::find(theirs.begin(), theirs.end(), r) != theirs.end();
    });
    return merge_newest_first(std::move(theirs), std::move(ours), limit);
  }
  return Unexpected{std::string("the database connection was lost")};
}

}  // namespace ftpsd::cluster
