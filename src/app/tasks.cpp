#include "app/tasks.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <set>

#include "util/limits.hpp"
#include "vfs/local_fs.hpp"

namespace ftpsd::app {

std::vector<std::filesystem::path> user_roots(
    const std::vector<std::shared_ptr<const session::Domain>>& domains) {
  std::set<std::filesystem::path> roots;
  for (const auto& d : domains) {
    for (const auto& [name, user] : d->users->all()) roots.insert(user.root.lexically_normal());
    if (d->config->users.anonymous) roots.insert(d->config->users.anonymous_root.lexically_normal());
  }
  return {roots.begin(), roots.end()};
}

// At start: upload temporaries older than this start are left from a crash or a kill (an upload that
// ends in any other way removes its own). Removed in the background, on one worker, one root after
// the other, bounded; the count is logged.
Task<void> remove_stale_uploads(std::vector<std::filesystem::path> roots, runtime::BlockingPool& blocking,
                                std::int64_t started) {
  const auto t0 = std::chrono::steady_clock::now();
  vfs::StaleCleanup total;
  for (const auto& root : roots) {
    const auto r = co_await blocking.run([&] {
      auto fs = vfs::LocalFs::open(root.string());
      return fs ? (*fs)->remove_stale_uploads(started, limits::kMaxStaleScanEntries) : vfs::StaleCleanup{};
    });
    total.removed += r.removed;
    total.visited += r.visited;
    if (r.truncated) {
      spdlog::warn("stale upload clean-up: stopped after {} entries under {}", limits::kMaxStaleScanEntries,
                   root.string());
    }
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("stale upload clean-up: removed {} temporaries under {} roots ({} entries, {}ms)",
               total.removed, roots.size(), total.visited, ms);
}

// SIGTERM, SIGINT: stop accepting, let running transfers finish until server.shutdown_timeout (the
// sessions' watchdogs close idle sessions with 421 and, at the deadline, abort what still runs), then
// stop the event loops once every session has ended.
Task<void> graceful_stop(session::Services& services, runtime::IoPool& pool, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  services.stop_deadline.store(deadline, std::memory_order_relaxed);
  services.stopping.store(true, std::memory_order_relaxed);
  services.stop_notice.notify();
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // A session's last 421 after the deadline takes up to a watchdog tick and a write.
  const auto hard_stop = deadline + std::chrono::seconds(5);
  while (services.sessions.load(std::memory_order_relaxed) > 0 &&
         std::chrono::steady_clock::now() < hard_stop) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(kTuple);
  }
  if (const auto left = services.sessions.load(std::memory_order_relaxed); left > 0)
    spdlog::warn("{} sessions still open after server.shutdown_timeout: closing them", left);
  pool.stop();
}

}  // namespace ftpsd::app
