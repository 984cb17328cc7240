#include "session/listing.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "util/limits.hpp"

namespace ftpsd::session {
namespace {

struct Entry {
  std::string_view name;  // NUL-terminated, in its batch's buffer
  protocol::FileInfo info;
  bool present = false;  // stat'ed, and still there
};

struct Batch {
  vfs::NameBatch names;  // owns the names' bytes
  std::vector<Entry> entries;
};

// Between the worker that reads the directory and its helpers.
struct Shared {
  explicit Shared(std::shared_ptr<ListingJob> j) : job(std::move(j)) {}

  std::shared_ptr<ListingJob> job;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::unique_ptr<Batch>> batches;  // guarded by mutex; a batch is never changed once in
  std::size_t next = 0;                         // the first batch nobody has claimed
  std::size_t busy = 0;                         // batches being stat'ed
  bool read_all = false;                        // no batch will be added
};

void stat_batch(Batch& batch, const ListingJob& job) {
  if (job.cancelled.load(std::memory_order_relaxed)) return;
  for (auto& e : batch.entries) {
    if (auto info = job.dir.stat_entry(e.name.data())) {
      e.info = std::move(*info);
      e.present = true;
    }
  }
}

// Claims and stats batches until every batch has been claimed and the reader is done.
void stat_batches(Shared& s) {
  std::unique_lock lock(s.mutex);
  for (;;) {
    if (s.next < s.batches.size()) {
      Batch& batch = *s.batches[s.next++];
      ++s.busy;
      lock.unlock();
      stat_batch(batch, *s.job);
      lock.lock();
      --s.busy;
      if (s.busy == 0) s.changed.notify_all();
      continue;
    }
    if (s.read_all) return;
    s.changed.wait(lock);
  }
}

// Sorting by name compares the first 16 bytes as two integers (big-endian, zero-padded: no name
// holds a NUL, so the order is the bytes' order) and only looks at the names themselves on a tie:
// no pointer chasing per comparison for the usual short names.
struct SortKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  const Entry* entry = nullptr;

  explicit SortKey(const Entry* e) : entry(e) {
    std::array<unsigned char, 16> bytes{};
    std::memcpy(bytes.data(), e->name.data(), std::min(e->name.size(), bytes.size()));
    for (std::size_t i = 0; i < 8; ++i) {
      high = (high << 8) | bytes[i];
      low = (low << 8) | bytes[i + 8];
    }
  }
  friend bool operator<(const SortKey& a, const SortKey& b) noexcept {
    if (a.high != b.high) return a.high < b.high;
    if (a.low != b.low) return a.low < b.low;
    return a.entry->name < b.entry->name;
  }
};

bool glob_match(const std::string& pattern, std::string_view name) {
  return ::fnmatch(pattern.c_str(), name.data(), FNM_PERIOD) == 0;  // name is NUL-terminated
}

// Reads every batch of names into `s` (the entries to list), then marks the reading done, also when
// it fails. Spawns the helpers once a second batch shows that the folder is worth it.
std::error_code read_names(Shared& s, const std::shared_ptr<Shared>& self, runtime::BlockingPool& pool,
                           std::size_t helpers, std::size_t& name_bytes) {
  auto& job = *s.job;
  std::size_t count = 0;
  std::error_code error;
  bool spawned = false;
  while (!job.dir.at_end() && count < limits::kMaxListingEntries) {
    if (job.cancelled.load(std::memory_order_relaxed)) {
      error = std::make_error_code(std::errc::operation_canceled);
      break;
    }
    auto names = job.dir.next_batch();
    if (!names) {
      error = names.error();
      break;
    }
    auto batch = std::make_unique<Batch>();
    batch->entries.reserve(names->names.size());
    for (const auto name : names->names) {
      if (!job.pattern.empty() && !glob_match(job.pattern, name)) continue;
      if (count == limits::kMaxListingEntries) break;
      batch->entries.push_back(Entry{.name = name});
      name_bytes += name.size();
      ++count;
    }
    batch->names = std::move(*names);
    if (batch->entries.empty()) continue;
    {
      std::lock_guard lock(s.mutex);
      s.batches.push_back(std::move(batch));
      if (!spawned && s.batches.size() == 2) {
        spawned = true;
        for (std::size_t i = 0; i < helpers; ++i) pool.post([self] { stat_batches(*self); });
      }
    }
    s.changed.notify_one();
  }
  {
    std::lock_guard lock(s.mutex);
    s.read_all = true;
  }
  s.changed.notify_all();
  return error;
}

}  // namespace

void append_listing_line(std::string& out, protocol::ListFormatter& formatter, ListFormat format,
                         const protocol::FileInfo& info, std::string_view name) {
  switch (format) {
    case ListFormat::kLong:
      formatter.append_list_line(out, info, name);
      return;
    case ListFormat::kNames:
      out += name;
      return;
    case ListFormat::kMlsd:
      formatter.append_facts(out, info);
      out += name;
      return;
  }
}

std::size_t listing_helpers(const runtime::BlockingPool& pool) noexcept {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min(cores, pool.threads()) - 1;
}

Result<ListingText> produce_listing(const std::shared_ptr<ListingJob>& job, runtime::BlockingPool& pool,
                                    std::size_t helpers) {
  auto shared = std::make_shared<Shared>(job);
  auto& s = *shared;
  std::size_t name_bytes = 0;
  const auto error = read_names(s, shared, pool, helpers, name_bytes);
  // The batches are all in and no longer change: sort while the helpers stat.
  std::vector<SortKey> sorted;
  if (!error) {
    std::size_t count = 0;
    for (const auto& batch : s.batches) count += batch->entries.size();
    sorted.reserve(count);
    for (const auto& batch : s.batches)
      for (const auto& e : batch->entries) sorted.emplace_back(&e);
    std::sort(sorted.begin(), sorted.end());
  }
  stat_batches(s);
  {
    std::unique_lock lock(s.mutex);
    s.changed.wait(lock, [&] { return s.busy == 0; });
  }
  if (error) return Unexpected{error};
  if (job->cancelled.load()) return Unexpected{std::make_error_code(std::errc::operation_canceled)};
  ListingText out;
  // A LIST line is 57 bytes and the name; MLSD facts are about 100.
  const std::size_t per_line = job->format == ListFormat::kNames  ? 2
                               : job->format == ListFormat::kLong ? 60
                                                                  : 110;
  out.text.reserve(name_bytes + sorted.size() * per_line);
  protocol::ListFormatter formatter(job->now, job->writable, job->facts);
  for (const auto& key : sorted) {
    const Entry* e = key.entry;
    if (!e->present) continue;
    append_listing_line(out.text, formatter, job->format, e->info, e->name);
    out.text += "\r\n";
    ++out.lines;
  }
  return out;
}

}  // namespace ftpsd::session
