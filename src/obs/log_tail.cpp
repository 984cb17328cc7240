#include "obs/log_tail.hpp"

#include <algorithm>

namespace ftpsd::obs {

std::optional<LogKind> log_kind(std::string_view name) {
  if (name == "session") return LogKind::kSession;
  if (name == "transfer") return LogKind::kTransfer;
  return std::nullopt;
}

void LogTail::append(LogKind kind, std::string_view level, std::string text) {
  {
    const std::lock_guard lock(mutex_);
    auto& lines = kind == LogKind::kSession ? session_ : transfer_;
    lines.push_back({.seq = ++seq_, .kind = kind, .level = std::string(level), .text = std::move(text)});
    if (lines.size() > capacity_) lines.pop_front();
  }
  appended_.notify_all();
}

std::vector<TailEntry> LogTail::recent(LogKind kind, std::size_t limit, std::string_view filter) const {
  const std::lock_guard lock(mutex_);
  const auto& lines = kind == LogKind::kSession ? session_ : transfer_;
  std::vector<TailEntry> out;
  for (auto it = lines.rbegin(); it != lines.rend() && out.size() < limit; ++it) {
    if (it->text.find(filter) != std::string::npos) out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<TailEntry> LogTail::after(LogKind kind, std::uint64_t& seq, std::string_view filter,
                                      std::chrono::milliseconds wait) const {
  std::unique_lock lock(mutex_);
  const auto& lines = kind == LogKind::kSession ? session_ : transfer_;
  const auto newer = [&] { return !lines.empty() && lines.back().seq > seq; };
  if (!newer()) appended_.wait_for(lock, wait, newer);
  std::vector<TailEntry> out;
  for (const auto& e : lines) {
    if (e.seq <= seq) continue;
    if (e.text.find(filter) != std::string::npos) out.push_back(e);
  }
  if (!lines.empty()) seq = std::max(seq, lines.back().seq);
  return out;
}

LogTail& log_tail() {
  static LogTail tail;
  return tail;
}

}  // namespace ftpsd::obs
