#pragma once
// A user's file tree, confined to its root directory by the kernel. Every call is synchronous and may
// block on the disk: the session runs them on the blocking pool (vfs/blocking_pool.hpp), never on the
// event loop. Thread-safe: the root handle is immutable after open().
#include <sys/stat.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <system_error>
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

class LocalFs {
 public:
  // Opens `root` (an existing directory) as the handle every path is resolved beneath.
  static Result<std::shared_ptr<const LocalFs>> open(const std::string& root);

  [[nodiscard]] Result<protocol::FileInfo> stat(const VirtualPath& path) const;
  // The entries of a directory, without "." and "..". Symlinks that resolve inside the root are
  // shown as their target; others (dangling or escaping) as links, never followed.
  [[nodiscard]] Result<std::vector<protocol::FileInfo>> list(const VirtualPath& dir) const;
  [[nodiscard]] Result<sys::UniqueFd> open_read(const VirtualPath& path) const;  // regular files only
  [[nodiscard]] Result<sys::UniqueFd> open_write(const VirtualPath& path, WriteMode mode) const;
  [[nodiscard]] bool is_directory(const VirtualPath& path) const;

  [[nodiscard]] std::error_code make_directory(const VirtualPath& path) const;
  [[nodiscard]] std::error_code remove_directory(const VirtualPath& path) const;
  [[nodiscard]] std::error_code remove_file(const VirtualPath& path) const;
  [[nodiscard]] std::error_code rename(const VirtualPath& from, const VirtualPath& to) const;
  [[nodiscard]] std::error_code set_mtime(const VirtualPath& path, std::int64_t seconds) const;
  [[nodiscard]] std::error_code chmod(const VirtualPath& path, mode_t mode) const;

 private:
  explicit LocalFs(sys::UniqueFd root) : root_(std::move(root)) {}
  // Opens the parent of `path` as a directory handle; the last segment is then used relative to it,
  // so no component is ever resolved outside the kernel's RESOLVE_BENEATH walk.
  [[nodiscard]] Result<sys::UniqueFd> open_parent(const VirtualPath& path) const;

  sys::UniqueFd root_;
};

[[nodiscard]] protocol::FileInfo to_file_info(std::string name, const struct stat& st);

}  // namespace ftpsd::vfs
