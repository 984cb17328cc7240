#pragma once
// The text of a LIST/NLST/MLSD of a directory: its entries read, stat'ed, sorted by name and
// formatted, one line each, every line ending in CRLF. A large folder is read by several workers of
// the blocking pool at once: one reads the names (getdents64) and sorts them while the others stat
// the batches already read, so that the stat calls (most of the cost) use every core.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/listing.hpp"
#include "runtime/blocking_pool.hpp"
#include "util/result.hpp"
#include "vfs/local_fs.hpp"

namespace ftpsd::session {

enum class ListFormat : std::uint8_t { kLong, kNames, kMlsd };

// One line (without CRLF) of a listing in `format`, for `info` shown as `name`.
void append_listing_line(std::string& out, protocol::ListFormatter& formatter, ListFormat format,
                         const protocol::FileInfo& info, std::string_view name);

// One listing's inputs. Owned: the work may outlive the command that asked for it (a transfer that
// failed or was aborted) until it sees `cancelled`.
struct ListingJob {
  ListingJob(std::shared_ptr<const vfs::LocalFs> fs_, vfs::ListingDirectory dir_)
      : fs(std::move(fs_)), dir(std::move(dir_)) {}

  std::shared_ptr<const vfs::LocalFs> fs;  // keeps `dir` valid
  vfs::ListingDirectory dir;
  std::string pattern;  // a glob the names must match (fnmatch, FNM_PERIOD); empty: every entry
  ListFormat format = ListFormat::kLong;
  bool writable = false;                          // MLSD: the perm fact
  protocol::FactSet facts = protocol::kAllFacts;  // MLSD: the facts sent (OPTS MLST)
  std::int64_t now = 0;                           // LIST: entries of the last six months show the time of day
  std::atomic<bool> cancelled{false};
};

struct ListingText {
  std::string text;
  std::size_t lines = 0;
};

// Produces the listing of job->dir (at most limits::kMaxListingEntries entries; entries that vanish
// meanwhile are left out). Blocking: call it on a worker of `pool`; it posts up to `helpers` more
// tasks to `pool` that stat alongside it (a helper that starts late finds nothing left and ends).
// An error only when reading the directory fails, or `cancelled` (operation_canceled).
[[nodiscard]] Result<ListingText> produce_listing(const std::shared_ptr<ListingJob>& job,
                                                  runtime::BlockingPool& pool, std::size_t helpers);

// How many helpers produce_listing should use with this pool on this machine: one per core beyond
// the first, at most one per pool thread beyond the first.
[[nodiscard]] std::size_t listing_helpers(const runtime::BlockingPool& pool) noexcept;

}  // namespace ftpsd::session
