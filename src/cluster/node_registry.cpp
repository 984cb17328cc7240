#include "cluster/node_registry.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>

namespace ftpsd::cluster {
namespace {

constexpr std::string_view kUtc = R"('YYYY-MM-DD"T"HH24:MI:SS"Z"')";

std::uint64_t to_u64(const std::string& text) {
  std::uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

}  // namespace

std::string_view state_name(NodeState state) {
  switch (state) {
    case NodeState::kUp:
      return "up";
    case NodeState::kDown:
      return "down";
    case NodeState::kStopped:
      return "stopped";
  }
  return "down";
}

NodeRegistry::NodeRegistry(config::ClusterConfig cluster, std::string password, NodeFacts facts,
                           NodeHooks hooks)
    : cluster_(std::move(cluster)),
      password_(std::move(password)),
      facts_(std::move(facts)),
      hooks_(std::move(hooks)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

NodeRegistry::~NodeRegistry() {
  stop();
}

void NodeRegistry::start() {
  (void)beat();
  thread_ = std::thread([this] { run(); });
}

void NodeRegistry::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_asked_ = true;
  if (wake_.valid()) (void)::eventfd_write(wake_.get(), 1);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(beat_mutex_);
  if (beat_db_ && registered_) {
    if (auto said = beat_db_->exec("UPDATE nodes SET stopped_at = now(), sessions = '[]' WHERE name = $1",
                                   {cluster_.node});
        !said)
      spdlog::warn("cluster: could not record that node {} stopped: {}", cluster_.node, said.error().message);
  }
}

void NodeRegistry::run() {
  auto next = std::chrono::steady_clock::now() + kBeatEvery;
  while (!stop_asked_) {
    wait(next);
    if (stop_asked_) break;
    if (std::chrono::steady_clock::now() >= next) {
      (void)beat();
      next = std::chrono::steady_clock::now() + kBeatEvery;
    } else {
      take_notifications();
    }
  }
}

void NodeRegistry::wait(std::chrono::steady_clock::time_point until) {
  int db_fd = -1;
  {
    const std::lock_guard lock(beat_mutex_);
    if (beat_db_ && registered_) db_fd = beat_db_->socket();
  }
  std::array<pollfd, 2> fds{pollfd{.fd = wake_.get(), .events = POLLIN, .revents = 0},
                            pollfd{.fd = db_fd, .events = POLLIN, .revents = 0}};
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  if (left.count() <= 0) return;
  // Without the eventfd (it could not be made) stop() is seen at the next beat.
  if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR)
    std::this_thread::sleep_for(left);
}

void NodeRegistry::take_notifications() {
  const std::lock_guard lock(beat_mutex_);
  if (!beat_db_ || !registered_) return;
  auto received = beat_db_->notifications();
  if (!received) {
    went_down(received.error().message);
    return;
  }
  if (std::find(received->begin(), received->end(), cluster_.node) != received->end()) (void)take_ends();
}

void NodeRegistry::went_down(const std::string& why) {
  beat_db_.reset();
  if (state_ == State::kDown) return;
  state_ = State::kDown;
  spdlog::error(
      "cluster: node {} cannot reach the database ({}); it goes on serving, and the other nodes list it as "
      "down until it is back",
      cluster_.node, why);
}

void NodeRegistry::came_up() {
  if (state_ == State::kUp) return;
  if (state_ == State::kDown)
    spdlog::warn("cluster: node {} reaches the database again; its heartbeat goes on", cluster_.node);
  state_ = State::kUp;
}

bool NodeRegistry::register_node() {
  auto row = beat_db_->exec(
      "INSERT INTO nodes (name, version, listeners, passive, plan) VALUES ($1, $2, $3, $4, $5::jsonb) "
      "ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, listeners = EXCLUDED.listeners, "
      "passive = EXCLUDED.passive, plan = EXCLUDED.plan, started_at = now(), heartbeat_at = now(), "
      "stopped_at = NULL, sessions = '[]' RETURNING number",
      {cluster_.node, facts_.version, facts_.listeners, facts_.passive,
       facts_.plan.empty() ? std::string("{}") : facts_.plan});
  if (!row) {
    if (row.error().connection_lost)
      went_down(row.error().message);
    else
      spdlog::error("cluster: node {} could not register: {}", cluster_.node, row.error().message);
    return false;
  }
  // Requests to end sessions of this node's earlier run are void: those sessions are gone.
  (void)beat_db_->exec("DELETE FROM session_ends WHERE node = $1", {cluster_.node});
  const auto number = to_u64(row->text(0, 0));
  registered_ = true;
  spdlog::info("cluster: node {} registered as number {} (session ids from {})", cluster_.node, number,
               number * kIdsPerNode + 1);
  if (hooks_.session_ids) hooks_.session_ids(number * kIdsPerNode);
  return true;
}

bool NodeRegistry::beat() {
  std::lock_guard lock(beat_mutex_);
  if (!beat_db_) {
    auto opened = Connection::open(cluster_, password_);
    if (!opened) {
      went_down(opened.error().message);
      return false;
    }
    beat_db_.emplace(std::move(*opened));
    // Each new connection listens again (a LISTEN ends with its connection).
    if (auto listening = beat_db_->exec(fmt::format("LISTEN {}", kEndChannel)); !listening)
      spdlog::warn("cluster: node {} takes requests to end its sessions at each heartbeat only: {}",
                   cluster_.node, listening.error().message);
  }
  if (!registered_ && !register_node()) return false;
  const std::string sessions = hooks_.sessions_json ? hooks_.sessions_json() : "[]";
  auto beaten = beat_db_->exec(
      "UPDATE nodes SET heartbeat_at = now(), stopped_at = NULL, sessions = $2::jsonb WHERE name = $1",
      {cluster_.node, sessions});
  if (beaten && beaten->affected() == 0) {  // the row was deleted by hand: register again
    registered_ = false;
    return register_node();
  }
  if (!beaten) {
    if (beaten.error().connection_lost)
      went_down(beaten.error().message);
    else
      spdlog::error("cluster: node {}: heartbeat refused: {}", cluster_.node, beaten.error().message);
    return false;
  }
  came_up();
  return take_ends();
}

bool NodeRegistry::take_ends() {
  auto ends = beat_db_->exec("DELETE FROM session_ends WHERE node = $1 RETURNING id", {cluster_.node});
  if (!ends) {
    if (ends.error().connection_lost) went_down(ends.error().message);
    return false;
  }
  for (int i = 0; i < ends->count(); ++i)
    if (hooks_.end_session) hooks_.end_session(to_u64(ends->text(i, 0)));
  return true;
}

Result<std::vector<NodeRow>, std::string> NodeRegistry::nodes() {
  std::lock_guard lock(query_mutex_);
  const std::string sql = fmt::format(
      "SELECT name, number, version, listeners, passive, to_char(started_at AT TIME ZONE 'UTC', {0}), "
      "to_char(heartbeat_at AT TIME ZONE 'UTC', {0}), extract(epoch from now() - heartbeat_at), "
      "stopped_at IS NOT NULL, sessions::text FROM nodes ORDER BY name",
      kUtc);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!query_db_) {
      auto opened = Connection::open(cluster_, password_);
      if (!opened) return Unexpected{opened.error().message};
      query_db_.emplace(std::move(*opened));
    }
    auto rows = query_db_->exec(sql);
    if (!rows) {
      query_db_.reset();
      if (rows.error().connection_lost && attempt == 0) continue;  // the server restarted meanwhile
      return Unexpected{rows.error().message};
    }
    std::vector<NodeRow> out;
    for (int i = 0; i < rows->count(); ++i) {
      NodeRow n{.name = rows->text(i, 0),
                .number = to_u64(rows->text(i, 1)),
                .version = rows->text(i, 2),
                .listeners = rows->text(i, 3),
                .passive = rows->text(i, 4),
                .started = rows->text(i, 5),
                .heartbeat = rows->text(i, 6),
                .heartbeat_age_seconds = std::stod(rows->text(i, 7)),
                .state = NodeState::kUp,
                .sessions_json = "[]"};
      if (rows->text(i, 8) == "t")
        n.state = NodeState::kStopped;
      else if (n.heartbeat_age_seconds > std::chrono::duration<double>(kDownAfter).count())
        n.state = NodeState::kDown;
      if (n.state == NodeState::kUp) n.sessions_json = rows->text(i, 9);
      out.push_back(std::move(n));
    }
    return out;
  }
  return Unexpected{std::string("the database connection was lost")};
}

Result<std::optional<RemoteEnd>, std::string> NodeRegistry::end_session(std::uint64_t id,
                                                                        std::chrono::milliseconds wait,
                                                                        std::string& client) {
  std::lock_guard lock(query_mutex_);
  if (!query_db_) {
    auto opened = Connection::open(cluster_, password_);
    if (!opened) return Unexpected{opened.error().message};
    query_db_.emplace(std::move(*opened));
  }
  auto fail = [this](const DbError& e) -> Result<std::optional<RemoteEnd>, std::string> {
    query_db_.reset();
    return Unexpected{e.message};
  };
  const std::string key = std::to_string(id);
  auto found = query_db_->exec(
      fmt::format("SELECT n.name, s->>'client' FROM nodes n, jsonb_array_elements(n.sessions) s "
                  "WHERE s->>'id' = $1 AND n.stopped_at IS NULL AND n.heartbeat_at > now() - interval '{} "
                  "seconds'",
                  std::chrono::seconds(kDownAfter).count()),
      {key});
  if (!found) return fail(found.error());
  if (found->count() == 0) return std::optional<RemoteEnd>{};
  RemoteEnd out{.node = found->text(0, 0), .ended = false};
  client = found->text(0, 1);
  auto asked = query_db_->exec(
      "INSERT INTO session_ends (id, node) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", {key, out.node});
  if (!asked) return fail(asked.error());
  // The node takes the request when the notification reaches it, else at its next heartbeat (within
  // kBeatEvery).
  if (auto told = query_db_->exec("SELECT pg_notify($1, $2)", {std::string(kEndChannel), out.node}); !told)
    return fail(told.error());
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    auto pending = query_db_->exec("SELECT 1 FROM session_ends WHERE id = $1", {key});
    if (!pending) return fail(pending.error());
    if (pending->count() == 0) {
      out.ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::optional<RemoteEnd>{std::move(out)};
}

}  // namespace ftpsd::cluster
