#pragma once
// [cluster]: the Manager's audit log in the database (README "The audit log in a cluster"), table audit.
//
// Each entry this node records is queued (add() never waits for the database) and one thread of its own
// writes the queue in order. While the database is unreachable the queue keeps the entries, at most
// kMaxQueued (more are kept in admin.audit_file only, logged once); the thread tries a new connection
// once a second and writes them when it is back. recent() reads the entries of every node on a
// connection of its own: it blocks, so the Manager calls it on an HTTP thread.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cluster/pg.hpp"

namespace ftpsd::cluster {

// One entry of the audit log as the table holds it.
struct AuditRecord {
  std::string time;  // ISO 8601, UTC, to the second: "2026-12-08T01:32:51Z"
  std::string node;
  std::string who;
  std::string address;
  std::string action;
  std::string target;
  std::string diff;
  bool operator==(const AuditRecord&) const = default;
};

class AuditSync {
 public:
  static constexpr std::size_t kMaxQueued = 10000;

  AuditSync(config::ClusterConfig cluster, std::string password);
  AuditSync(const AuditSync&) = delete;
  AuditSync& operator=(const AuditSync&) = delete;
  AuditSync(AuditSync&&) = delete;
  AuditSync& operator=(AuditSync&&) = delete;
  ~AuditSync();  // stop()

  void start();
  // Writes what waits if the database is there, and ends the thread. Idempotent.
  void stop();

  // Queues an entry of this node (its `node` is set here). Never blocks on the database.
  void add(AuditRecord record);
  // The newest `limit` entries of every node, newest first; the entries of this node not written yet
  // are among them. Error: the database could not answer (the message).
  [[nodiscard]] Result<std::vector<AuditRecord>, std::string> recent(std::size_t limit);

  [[nodiscard]] const std::string& node() const { return cluster_.node; }

 private:
  void run();
  bool connect();  // on the thread; false: unreachable (logged once)
  bool flush();    // false: the connection was lost (logged once)
  void went_down(const std::string& why);

  config::ClusterConfig cluster_;
  std::string password_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<AuditRecord> queue_;  // under mutex_, oldest first
  bool stopping_ = false;          // under mutex_
  bool full_logged_ = false;       // under mutex_
  bool up_ = false;                // under mutex_
  std::thread thread_;

  std::optional<Connection> db_;  // the thread's
  bool down_logged_ = false;      // the thread's

  std::mutex query_mutex_;  // recent()'s connection
  std::optional<Connection> query_db_;
};

// `ours` (newest first) placed among `theirs` (newest first) by time, at most `limit`: an entry of
// `ours` goes before the entries of `theirs` of the same second or older.
[[nodiscard]] std::vector<AuditRecord> merge_newest_first(std::vector<AuditRecord> theirs,
                                                          std::vector<AuditRecord> ours, std::size_t limit);

}  // namespace ftpsd::cluster
