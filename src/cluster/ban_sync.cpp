#include "cluster/ban_sync.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <vector>

#include "cluster/schema.hpp"

namespace ftpsd::cluster {
namespace {

constexpr auto kPullEvery = std::chrono::seconds(1);
constexpr auto kRetryEvery = std::chrono::seconds(1);
constexpr auto kPurgeEvery = std::chrono::minutes(1);

// An operator's ban replaces the one of its network; one after failed logins only lengthens it.
constexpr std::string_view kUpsertOperator =
    "INSERT INTO bans (network, until, reason, automatic, node) "
    "VALUES ($1, now() + make_interval(secs => $2::double precision), $3, false, $4) "
    "ON CONFLICT (network) DO UPDATE SET until = excluded.until, reason = excluded.reason, automatic = "
    "false, "
    "node = excluded.node, created_at = now()";
constexpr std::string_view kUpsertAutomatic =
    "INSERT INTO bans (network, until, reason, automatic, node) "
    "VALUES ($1, now() + make_interval(secs => $2::double precision), $3, true, $4) "
    "ON CONFLICT (network) DO UPDATE SET until = excluded.until, reason = excluded.reason, automatic = true, "
    "node = excluded.node, created_at = now() WHERE bans.until < excluded.until";
constexpr std::string_view kDelete = "DELETE FROM bans WHERE network = $1";
// The time left is the database's: the nodes' clocks do not matter.
constexpr std::string_view kSelect =
    "SELECT network, extract(epoch FROM until - now()), reason, automatic, node FROM bans "
    "WHERE until > now() ORDER BY until DESC LIMIT $1";
constexpr std::string_view kPurge = "DELETE FROM bans WHERE until < now() - interval '1 hour'";

}  // namespace

BanSync::BanSync(config::ClusterConfig cluster, std::string password, net::Bans& bans)
    : cluster_(std::move(cluster)), password_(std::move(password)), bans_(bans) {}

BanSync::~BanSync() {
  stop();
}

void BanSync::start() {
  cycle();  // the bans in force before the first client is accepted
  thread_ = std::thread([this] { run(); });
}

void BanSync::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BanSync::made(const inet::IpNetwork& network, Clock::time_point until, const std::string& reason,
                   bool automatic) {
  queue(net::Bans::display(network),
        Change{.lift = false, .until = until, .reason = reason, .automatic = automatic});
}

void BanSync::lifted(const inet::IpNetwork& network) {
  queue(net::Bans::display(network), Change{.lift = true});
}

void BanSync::queue(const std::string& network, Change change) {
  {
    const std::lock_guard lock(mutex_);
    auto it = queue_.find(network);
    if (it == queue_.end()) {
      if (queue_.size() >= kMaxQueued) {
        if (!full_logged_)
          spdlog::error("cluster: {} ban changes wait for the database; further ones stay on this node",
                        kMaxQueued);
        full_logged_ = true;
        return;
      }
      queue_.emplace(network, std::move(change));
    } else if (!(change.automatic && !it->second.lift && it->second.until >= change.until)) {
      it->second = std::move(change);  // the newest wins, but a failure ban does not shorten a ban
    }
  }
  if (up_.load()) wake_.notify_all();
}

void BanSync::went_down(const std::string& why) {
  db_.reset();
  up_.store(false);
  if (state_ == State::kDown) return;
  state_ = State::kDown;
  spdlog::error(
      "cluster: the ban database is unreachable ({}); bans made here apply on this node and are shared "
      "when it is back",
      why);
}

void BanSync::came_up() {
  up_.store(true);
  if (state_ == State::kUp) return;
  std::size_t waiting = 0;
  {
    const std::lock_guard lock(mutex_);
    waiting = queue_.size();
  }
  if (state_ == State::kDown)
    spdlog::warn("cluster: the ban database is reachable again; bans made or lifted here meanwhile: {}",
                 waiting);
  else
    spdlog::info("cluster: bans are shared through the database (node {})", cluster_.node);
  state_ = State::kUp;
}

bool BanSync::connect() {
  const auto now = Clock::now();
  if (state_ == State::kDown && now - last_attempt_ < kRetryEvery) return false;
  last_attempt_ = now;
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
  came_up();
  return true;
}

Result<bool, DbError> BanSync::write(const std::string& network, const Change& change) {
  if (change.lift) {
    auto done = db_->exec(kDelete, {network});
    if (!done) return Unexpected{done.error()};
    return true;
  }
  const auto left = std::chrono::duration<double>(change.until - Clock::now()).count();
  if (left <= 0) return false;  // over already
  auto done = db_->exec(change.automatic ? kUpsertAutomatic : kUpsertOperator,
                        {network, fmt::format("{:.3f}", left), change.reason, cluster_.node});
  if (!done) return Unexpected{done.error()};
  return true;
}

bool BanSync::flush() {
  std::map<std::string, Change> batch;
  {
    const std::lock_guard lock(mutex_);
    batch.swap(queue_);
    full_logged_ = false;
  }
  // What was written is read back at once: a ban of this node lifted elsewhere right after must be
  // seen go (replace_shared() lifts only what the shared list had).
  if (!batch.empty()) last_pull_ = {};
  for (auto it = batch.begin(); it != batch.end(); ++it) {
    auto written = write(it->first, it->second);
    if (written) continue;
    if (!written.error().connection_lost) {
      spdlog::error("cluster: sharing the ban of {} failed: {}", it->first, written.error().message);
      continue;
    }
    // Back in the queue, the unwritten ones; a change made meanwhile is newer and stays.
    {
      const std::lock_guard lock(mutex_);
      for (auto rest = it; rest != batch.end(); ++rest)
        queue_.try_emplace(rest->first, std::move(rest->second));
    }
    went_down(written.error().message);
    return false;
  }
  return true;
}

void BanSync::pull() {
  const auto read_at = Clock::now();
  auto rows = db_->exec(kSelect, {std::to_string(net::Bans::kMaxShared)});
  if (!rows) {
    if (rows.error().connection_lost) {
      went_down(rows.error().message);
    } else if (!pull_failing_) {
      spdlog::error("cluster: reading the shared bans failed: {}", rows.error().message);
    }
    pull_failing_ = !rows.error().connection_lost;
    return;
  }
  pull_failing_ = false;
  const auto now = Clock::now();
  std::vector<net::Bans::Shared> bans;
  bans.reserve(static_cast<std::size_t>(rows->count()));
  for (int i = 0; i < rows->count(); ++i) {
    auto network = inet::IpNetwork::parse(rows->text(i, 0));
    if (!network) continue;
    const double left = std::strtod(rows->text(i, 1).c_str(), nullptr);
    bans.push_back(net::Bans::Shared{
        .network = *network,
        .until = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(left)),
        .reason = rows->text(i, 2),
        .node = rows->text(i, 4),
        .automatic = rows->text(i, 3) == "t"});
  }
  // Under the queue's lock: a lift made here and not yet written must not come back from the stale row.
  const std::lock_guard lock(mutex_);
  std::erase_if(bans, [&](const net::Bans::Shared& b) {
    const auto it = queue_.find(net::Bans::display(b.network));
    return it != queue_.end() && it->second.lift;
  });
  bans_.replace_shared(std::move(bans), read_at, now);
}

void BanSync::cycle() {
  if (!db_ && !connect()) return;
  if (!flush()) return;
  const auto now = Clock::now();
  if (now - last_pull_ >= kPullEvery) {
    last_pull_ = now;
    pull();
  }
  if (db_ && now - last_purge_ >= kPurgeEvery) {
    last_purge_ = now;
    if (auto purged = db_->exec(kPurge); !purged && purged.error().connection_lost)
      went_down(purged.error().message);
  }
}

void BanSync::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    cycle();
    lock.lock();
    const auto next = (up_.load() ? last_pull_ + kPullEvery : last_attempt_ + kRetryEvery);
    wake_.wait_until(lock, next, [&] { return stopping_ || (up_.load() && !queue_.empty()); });
  }
  lock.unlock();
  // What was made just before the stop is shared still.
  if (db_) (void)flush();
}

}  // namespace ftpsd::cluster
