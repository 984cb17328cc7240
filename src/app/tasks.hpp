#pragma once
// The daemon's own work beside the sessions: the clean-up of upload temporaries left by a crash, and
// the graceful stop.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "auth/user_store.hpp"
#include "config/config.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/io_pool.hpp"
#include "session/services.hpp"
#include "util/duration.hpp"

namespace ftpsd::app {

// The root folders of every user (and of anonymous), once each.
std::vector<std::filesystem::path> user_roots(
    const std::vector<std::shared_ptr<const session::Domain>>& domains);

// Upload temporaries older than `started` (seconds since the epoch) under `roots` are removed.
Task<void> remove_stale_uploads(std::vector<std::filesystem::path> roots, runtime::BlockingPool& blocking,
                                std::int64_t started);

// SIGTERM, SIGINT: the sessions are told to stop; the event loops stop once they have all ended.
Task<void> graceful_stop(session::Services& services, runtime::IoPool& pool, Duration timeout);

}  // namespace ftpsd::app
