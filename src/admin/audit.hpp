#pragma once
// The Manager's audit log: every change made through it (who, from which address, when, what, and the
// diff of the file it changed), appended to admin.audit_file (a JSON object a line, fsync'ed), written
// to the server log too, and kept across restarts: the file's newest entries are read back at start.
// Thread-safe.
#include <cstddef>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "admin/http.hpp"
#include "util/result.hpp"

namespace ftpsd::admin {

struct AuditEntry {
  std::string who;      // the admin account
  std::string address;  // the browser's or client's address
  std::string action;   // "passive.update", "user.create", "session.end", ...
  std::string target;   // what it was done to: "default", "alice", "session 12"
  std::string diff;     // a unified diff of the file changed, or empty
};

// [cluster]: where the entries of every node are kept as well (the database; the app layer hands the
// cluster's implementation over). add() never blocks; recent() may (an HTTP thread calls it).
class AuditShare {
 public:
  virtual ~AuditShare() = default;
  // An entry of this node, as AuditLog::record made it (with "node").
  virtual void add(const json& entry) = 0;
  // The newest `limit` entries of every node, newest first. Error: why they cannot be read.
  [[nodiscard]] virtual Result<json, std::string> recent(std::size_t limit) = 0;
};

class AuditLog {
 public:
  // Opens (creates) `file` for appending and reads back its newest `keep` entries. Called before the
  // privileges are dropped, so a file only root may open still works. Error: why, naming the file.
  [[nodiscard]] static Result<std::unique_ptr<AuditLog>, std::string> open(const std::filesystem::path& file,
                                                                           std::size_t keep = 1000);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends and logs the entry, stamped with the time. Never throws: a write error is logged.
  void record(const AuditEntry& entry);
  // The newest `limit` entries of this node, newest first.
  [[nodiscard]] json recent(std::size_t limit) const;
  // [cluster]: the entries recorded from now on name `node` and go to `share` too. Called before the
  // Manager serves.
  void share(std::shared_ptr<AuditShare> share, std::string node);
  // What GET /audit answers: {"entries": [...]}, those of every node when shared; when the shared ones
  // cannot be read, this node's own and "cluster_error" says why.
  [[nodiscard]] json listing(std::size_t limit) const;

 private:
  AuditLog(int fd, std::size_t keep) : fd_(fd), keep_(keep) {}

  const int fd_;
  const std::size_t keep_;
  mutable std::mutex mutex_;
  std::deque<json> entries_;           // oldest first, at most keep_
  std::shared_ptr<AuditShare> share_;  // set before the Manager serves
  std::string node_;
};

}  // namespace ftpsd::admin
