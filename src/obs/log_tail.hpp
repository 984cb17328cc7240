#pragma once
// The newest lines of the session log and of the transfer log, kept in memory for the Manager
// (GET /api/v1/logs and its live stream): each line as the log writes it, numbered in one sequence.
// Thread-safe; readers may wait for the next line.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ftpsd::obs {

enum class LogKind : std::uint8_t { kSession, kTransfer };
[[nodiscard]] std::optional<LogKind> log_kind(std::string_view name);  // "session", "transfer"

struct TailEntry {
  std::uint64_t seq = 0;  // 1, 2, ... across both kinds
  LogKind kind = LogKind::kSession;
  std::string level;  // "info", "warning", ...
  std::string text;   // the line as written to the log, without its newline
};

class LogTail {
 public:
  explicit LogTail(std::size_t capacity = 1000) : capacity_(capacity) {}

  void append(LogKind kind, std::string_view level, std::string text);
  // The newest `limit` lines of `kind` whose text contains `filter` (case-sensitive; empty: all), oldest
  // first.
  [[nodiscard]] std::vector<TailEntry> recent(LogKind kind, std::size_t limit, std::string_view filter) const;
  // The lines of `kind` after sequence number `seq` that contain `filter`; when there are none yet,
  // waits until one comes or `wait` passes. `seq` is then moved past every line looked at.
  [[nodiscard]] std::vector<TailEntry> after(LogKind kind, std::uint64_t& seq, std::string_view filter,
                                             std::chrono::milliseconds wait) const;

 private:
  const std::size_t capacity_;  // per kind
  mutable std::mutex mutex_;
  mutable std::condition_variable appended_;
  std::uint64_t seq_ = 0;
  std::deque<TailEntry> session_;
  std::deque<TailEntry> transfer_;
};

// The process's tail, fed by the logger and write_xferlog().
[[nodiscard]] LogTail& log_tail();

}  // namespace ftpsd::obs
