#include "admin/audit.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <system_error>

namespace ftpsd::admin {

Result<std::unique_ptr<AuditLog>, std::string> AuditLog::open(const std::filesystem::path& file,
                                                              std::size_t keep) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected{fmt::format("admin.audit_file {}: {}", file.string(), std::strerror(errno))};
  std::unique_ptr<AuditLog> log(new AuditLog(fd, keep));
  std::ifstream in(file);
  bool ends_a_line = true;
  for (std::string line; std::getline(in, line);) {
    ends_a_line = !in.eof();
    auto entry = json::parse(line, nullptr, false);
    if (entry.is_discarded() || !entry.is_object()) continue;  // a line cut short by a crash
    log->entries_.push_back(std::move(entry));
    if (log->entries_.size() > keep) log->entries_.pop_front();
  }
  // A line a crash cut short is ended, so that the next entry starts a line of its own.
  if (!ends_a_line && ::write(fd, "\n", 1) != 1)
    return Unexpected{fmt::format("admin.audit_file {}: {}", file.string(), std::strerror(errno))};
  return log;
}

AuditLog::~AuditLog() {
  ::close(fd_);
}

void AuditLog::record(const AuditEntry& e) {
  json entry{{"time", utc(std::chrono::system_clock::now())},
             {"who", e.who},
             {"address", e.address},
             {"action", e.action},
             {"target", e.target},
             {"diff", e.diff}};
  if (!node_.empty()) entry["node"] = node_;
  const auto line = entry.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  spdlog::info("admin: {} from {}: {} {}", e.who, e.address, e.action, e.target);
  const std::lock_guard lock(mutex_);
  std::string_view rest = line;
  while (!rest.empty()) {
    const auto n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      spdlog::error("admin: cannot write to the audit file: {}", std::strerror(errno));
      break;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd_) != 0) spdlog::error("admin: cannot sync the audit file: {}", std::strerror(errno));
  entries_.push_back(entry);
  if (entries_.size() > keep_) entries_.pop_front();
  if (share_) share_->add(entry);
}

void AuditLog::share(std::shared_ptr<AuditShare> share, std::string node) {
  const std::lock_guard lock(mutex_);
  share_ = std::move(share);
  node_ = std::move(node);
}

json AuditLog::listing(std::size_t limit) const {
  std::shared_ptr<AuditShare> share;
  std::string node;
  {
    const std::lock_guard lock(mutex_);
    share = share_;
    node = node_;
  }
  if (!share) return json{{"entries", recent(limit)}};
  auto shared = share->recent(limit);
  if (shared) return json{{"entries", std::move(*shared)}};
  // This node's own, each naming it (those from before [cluster] was set have no "node").
  auto own = recent(limit);
  for (auto& entry : own) entry["node"] = node;
  return json{{"entries", std::move(own)}, {"cluster_error", shared.error()}};
}

json AuditLog::recent(std::size_t limit) const {
  const std::lock_guard lock(mutex_);
  json out = json::array();
  for (auto it = entries_.rbegin(); it != entries_.rend() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

}  // namespace ftpsd::admin
