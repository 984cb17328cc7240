#pragma once
// A user's file tree, confined to its root directory by the kernel. Every call is synchronous and may
// block on the disk: the session runs them on the blocking pool (vfs/blocking_pool.hpp), never on the
// event loop. Thread-safe: the root handle is immutable after open().
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "protocol/listing.hpp"
#include "sys/fd.hpp"
#include "util/result.hpp"
#include "vfs/virtual_path.hpp"

namespace ftpsd::vfs {

enum class WriteMode : std::uint8_t {
  kTruncate,   // STOR: create or replace (at offset 0), or overwrite from a REST offset
  kAppend,     // APPE
  kCreateNew,  // STOU: fail if it exists
};

// An upload written under a hidden temporary name in its target's folder. commit() renames it over
// the target; until then the target is untouched. A PendingUpload that was not committed removes its
// temporary in discard() (or, as a safety net, in its destructor). Blocking: run on the blocking pool.
class PendingUpload {
 public:
  PendingUpload(PendingUpload&& o) noexcept
      : dir_(std::move(o.dir_)),
        file_(std::move(o.file_)),
        temp_(std::exchange(o.temp_, {})),
        target_(std::move(o.target_)),
        no_replace_(o.no_replace_) {}
  PendingUpload& operator=(PendingUpload&&) = delete;
  PendingUpload(const PendingUpload&) = delete;
  PendingUpload& operator=(const PendingUpload&) = delete;
  ~PendingUpload() { discard(); }

  [[nodiscard]] int fd() const noexcept { return file_.get(); }
  [[nodiscard]] const std::string& temp_name() const noexcept { return temp_; }
  // Renames the temporary over the target (RENAME_NOREPLACE for STOU) and, with `sync`, fsyncs the
  // folder so the new name is on the disk too. The file's data must have been flushed before.
  [[nodiscard]] std::error_code commit(bool sync);
  void discard() noexcept;

 private:
  friend class LocalFs;
  PendingUpload(sys::UniqueFd dir, sys::UniqueFd file, std::string temp, std::string target, bool no_replace)
      : dir_(std::move(dir)),
        file_(std::move(file)),
        temp_(std::move(temp)),
        target_(std::move(target)),
        no_replace_(no_replace) {}

  sys::UniqueFd dir_;  // the folder, O_RDONLY (fsync needs a real descriptor)
  sys::UniqueFd file_;
  std::string temp_;  // empty once committed or discarded
  std::string target_;
  bool no_replace_ = false;
};

// This process's part of its temporaries' names: ".ftpsd-upload.<run id>.<random>". Fixed at the
// first call; the start-up clean-up never removes temporaries of its own run.
[[nodiscard]] const std::string& upload_run_id();

// What remove_stale_uploads() did.
struct StaleCleanup {
  std::size_t removed = 0;
  std::size_t visited = 0;  // directory entries looked at
  bool truncated = false;   // stopped at the bound
};

class LocalFs;

// The names one read of a directory returned (one getdents64 buffer): views into the buffer the batch
// owns, each NUL-terminated. Without ".", ".." and upload temporaries.
struct NameBatch {
  std::unique_ptr<std::uint64_t[]> storage;  // 8-byte aligned, as getdents64 wants
  std::vector<std::string_view> names;
};

// A directory opened for listing (LocalFs::open_listing): its names are read batch by batch, and each
// entry is stat'ed on its own, so that a caller can spread the stat calls over several threads.
// next_batch() is for one thread at a time; stat_entry() may run on any number at once. Valid while
// the LocalFs that opened it lives.
class ListingDirectory {
 public:
  // The next batch of names (possibly empty when one read held only hidden names); at_end() once the
  // directory is exhausted.
  [[nodiscard]] Result<NameBatch> next_batch();
  [[nodiscard]] bool at_end() const noexcept { return end_; }
  // The entry `name` of this directory as listings show it: a symlink that resolves inside the root
  // as its target, any other (dangling or escaping) as the link itself, never followed. nullopt when
  // the entry is gone. info.name stays empty.
  [[nodiscard]] std::optional<protocol::FileInfo> stat_entry(const char* name) const;

 private:
  friend class LocalFs;
  ListingDirectory(const LocalFs& fs, sys::UniqueFd fd, VirtualPath path)
      : fs_(&fs), fd_(std::move(fd)), path_(std::move(path)) {}

  const LocalFs* fs_;
  sys::UniqueFd fd_;  // O_RDONLY | O_DIRECTORY
  VirtualPath path_;
  bool end_ = false;
};

class LocalFs {
 public:
  // Opens `root` (an existing directory) as the handle every path is resolved beneath.
  static Result<std::shared_ptr<const LocalFs>> open(const std::string& root);

  [[nodiscard]] Result<protocol::FileInfo> stat(const VirtualPath& path) const;
  // The entries of a directory, without "." and "..". Symlinks that resolve inside the root are
  // shown as their target; others (dangling or escaping) as links, never followed.
  [[nodiscard]] Result<std::vector<protocol::FileInfo>> list(const VirtualPath& dir) const;
  // The directory `dir`, opened for a listing of its entries (see ListingDirectory).
  [[nodiscard]] Result<ListingDirectory> open_listing(const VirtualPath& dir) const;
  // Regular files only. `cached_only`: fails with EAGAIN rather than wait for the disk to resolve the
  // path (RESOLVE_CACHED), for a first try on the event loop.
  [[nodiscard]] Result<sys::UniqueFd> open_read(const VirtualPath& path, bool cached_only = false) const;
  // In place. `created` (optional) tells whether this call created the file, so a transfer that
  // never starts can remove it again.
  [[nodiscard]] Result<sys::UniqueFd> open_write(const VirtualPath& path, WriteMode mode,
                                                 bool* created = nullptr) const;
  // storage.atomic_uploads: a new hidden temporary beside `target` (see PendingUpload), with the
  // permission bits of the file it will replace. Fails like open_write when the target is a folder
  // or not a regular file, or (`must_not_exist`, STOU) when it exists; with ELOOP
  // (too_many_symbolic_link_levels) when it is a symlink, which callers write through in place.
  [[nodiscard]] Result<PendingUpload> create_upload(const VirtualPath& target, bool must_not_exist) const;
  // Removes upload temporaries of other runs last modified in or before the second `before` (seconds
  // since the epoch) in the whole tree, never following symlinks, looking at no more than
  // `max_entries` entries.
  [[nodiscard]] StaleCleanup remove_stale_uploads(std::int64_t before, std::size_t max_entries) const;
  [[nodiscard]] bool is_directory(const VirtualPath& path) const;

  [[nodiscard]] std::error_code make_directory(const VirtualPath& path) const;
  [[nodiscard]] std::error_code remove_directory(const VirtualPath& path) const;
  [[nodiscard]] std::error_code remove_file(const VirtualPath& path) const;
  [[nodiscard]] std::error_code rename(const VirtualPath& from, const VirtualPath& to) const;
  [[nodiscard]] std::error_code set_mtime(const VirtualPath& path, std::int64_t seconds) const;
  [[nodiscard]] std::error_code chmod(const VirtualPath& path, mode_t mode) const;

 private:
  friend class RootHandles;
  explicit LocalFs(sys::UniqueFd root) : root_(std::move(root)) {}
  // Opens the parent of `path` as a directory handle; the last segment is then used relative to it,
  // so no component is ever resolved outside the kernel's RESOLVE_BENEATH walk.
  [[nodiscard]] Result<sys::UniqueFd> open_parent(const VirtualPath& path) const;

  friend class ListingDirectory;
  sys::UniqueFd root_;
};

[[nodiscard]] protocol::FileInfo to_file_info(std::string name, const struct stat& st);

}  // namespace ftpsd::vfs
