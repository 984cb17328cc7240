#pragma once
// One root folder handle per folder, shared by every session whose root it is: an idle logged-in
// session then holds no descriptor but its socket (10,000 sessions of one user: 10,000 sockets and
// one directory handle, not 20,000 descriptors against RLIMIT_NOFILE).
#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "util/result.hpp"
#include "vfs/local_fs.hpp"

namespace ftpsd::vfs {

class RootHandles {
 public:
  // The handle of the folder `root` names now, as LocalFs::open would give it: the path is opened
  // every time, and when a live handle of the same folder (device and inode) exists, that one is
  // returned instead. A root path that names another folder after a reload or a rename gets that
  // folder's own handle; sessions that hold the old one keep it. Thread-safe.
  [[nodiscard]] Result<std::shared_ptr<const LocalFs>> open(const std::string& root);
  // Folders with a live shared handle (tests, metrics).
  [[nodiscard]] std::size_t live() const;
  // Entries in the table, expired ones included (tests: the table does not grow without bound).
  [[nodiscard]] std::size_t tracked() const {
    std::lock_guard lock(mutex_);
    return open_.size();
  }

 private:
  using Key = std::pair<dev_t, ino_t>;
  mutable std::mutex mutex_;
  std::map<Key, std::weak_ptr<const LocalFs>> open_;
  std::size_t sweep_at_ = 64;  // drop expired entries when the map reaches this size
};

}  // namespace ftpsd::vfs
