#pragma once
// [cluster]: this node in the nodes table, and the other nodes as the Manager lists them.
//
// Each node has a row (name, number, version, listeners, passive slice, heartbeat, its live sessions as
// JSON). A thread of the registry's own beats once a second: it writes the heartbeat and the sessions,
// and ends the sessions that another node's Manager asked this one to end (table session_ends): at
// once when the request's NOTIFY arrives (it LISTENs on kEndChannel), else at the next beat. A node
// that has not beaten for kDownAfter is down: its sessions leave the cluster's list. A node stopped
// cleanly says so (stopped_at), and its sessions leave at once.
//
// Session ids are unique across the cluster: a node numbered N (from the database, at its first start)
// gives its sessions ids from N * kIdsPerNode + 1 on (session_id_base).
//
// The Manager's calls (nodes(), sessions(), end_session()) block on a connection of their own: use them
// on an HTTP thread, never an event loop. The database going away stops none of this node's service: the
// thread logs each change of state once and connects again by itself.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/pg.hpp"
#include "sys/fd.hpp"

namespace ftpsd::cluster {

inline constexpr std::uint64_t kIdsPerNode = 1'000'000'000;
inline constexpr auto kBeatEvery = std::chrono::seconds(1);
inline constexpr auto kDownAfter = std::chrono::seconds(5);
// The channel of the requests to end a session; the payload is the name of the node that runs it.
inline constexpr std::string_view kEndChannel = "ftpsd_session_end";

// What a node tells the others about itself.
struct NodeFacts {
  std::string version;
  std::string listeners;  // "127.0.0.1:2121, 127.0.0.1:990 (implicit TLS)"
  std::string passive;    // "203.0.113.5, ports 50000-50099"
  std::string plan;       // for the load balancer: JSON (tools::NodePlan); "{}": none
};

// What the registry asks of the server.
struct NodeHooks {
  std::function<std::string()> sessions_json;               // this node's live sessions, a JSON array
  std::function<void(std::uint64_t id)> end_session;        // another node's Manager asked
  std::function<void(std::uint64_t first_id)> session_ids;  // this node's number is known
};

enum class NodeState : std::uint8_t { kUp, kDown, kStopped };

struct NodeRow {
  std::string name;
  std::uint64_t number = 0;
  std::string version;
  std::string listeners;
  std::string passive;
  std::string started;    // ISO 8601, UTC
  std::string heartbeat;  // ISO 8601, UTC
  double heartbeat_age_seconds = 0;
  NodeState state = NodeState::kUp;
  std::string sessions_json;  // a JSON array; "[]" for a node that is not up
};

// A session that another node's Manager asked to end.
struct RemoteEnd {
  std::string node;
  bool ended = false;  // the node ended it within the wait; false: asked, not yet done
};

class NodeRegistry {
 public:
  NodeRegistry(config::ClusterConfig cluster, std::string password, NodeFacts facts, NodeHooks hooks);
  ~NodeRegistry();
  NodeRegistry(const NodeRegistry&) = delete;
  NodeRegistry& operator=(const NodeRegistry&) = delete;

  // Registers the node (once, before the server serves: the session ids depend on it) and starts the
  // heartbeat thread. An unreachable database is logged; the thread registers when it comes.
  void start();
  // Says this node stopped (its sessions leave the list at once) and joins the thread.
  void stop();

  [[nodiscard]] const std::string& node() const { return cluster_.node; }

  // Every node, this one included, by name. Error: the database could not answer (the message).
  [[nodiscard]] Result<std::vector<NodeRow>, std::string> nodes();
  // Asks the node that runs session `id` to end it, and waits up to `wait` for it to be done. nullopt:
  // no node that is up runs such a session. `client`: the session's client address.
  [[nodiscard]] Result<std::optional<RemoteEnd>, std::string> end_session(std::uint64_t id,
                                                                          std::chrono::milliseconds wait,
                                                                          std::string& client);

 private:
  void run();
  bool beat();                // on the thread; false: the database could not be reached
  bool register_node();       // under beat_mutex_
  bool take_ends();           // under beat_mutex_: ends the sessions asked of this node
  void take_notifications();  // on the thread: a NOTIFY for this node takes its requests now
  // Waits until the next beat is due, a notification arrives or stop() is called.
  void wait(std::chrono::steady_clock::time_point until);
  void went_down(const std::string& why);
  void came_up();

  config::ClusterConfig cluster_;
  std::string password_;
  NodeFacts facts_;
  NodeHooks hooks_;

  std::mutex beat_mutex_;  // the thread's connection and state (start() uses them before the thread runs)
  std::optional<Connection> beat_db_;
  bool registered_ = false;
  enum class State : std::uint8_t { kUnknown, kUp, kDown } state_ = State::kUnknown;

  std::mutex query_mutex_;  // the Manager's connection
  std::optional<Connection> query_db_;

  std::mutex stop_mutex_;
  bool stopping_ = false;                // under stop_mutex_
  std::atomic<bool> stop_asked_{false};  // read by the thread
  sys::UniqueFd wake_;                   // an eventfd: stop() wakes the thread's poll()
  std::thread thread_;
};

[[nodiscard]] std::string_view state_name(NodeState state);

}  // namespace ftpsd::cluster
