#pragma once
// The Manager's audit log: every change made through it (who, from which address, when, what, and the
// diff of the file it changed), appended to admin.audit_file (a JSON object a line, fsync'ed), written
// to the server log too, and kept across restarts: the file's newest entries are read back at start.
// Thread-safe.
#include <cstddef>
#include <deque>
#include <filesystem>
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
  // The newest `limit` entries, newest first.
  [[nodiscard]] json recent(std::size_t limit) const;

 private:
  AuditLog(int fd, std::size_t keep) : fd_(fd), keep_(keep) {}

  const int fd_;
  const std::size_t keep_;
  mutable std::mutex mutex_;
  std::deque<json> entries_;  // oldest first, at most keep_
};

}  // namespace ftpsd::admin
