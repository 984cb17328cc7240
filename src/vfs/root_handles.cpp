#include "vfs/root_handles.hpp"

#include <algorithm>

#include "sys/syscalls.hpp"

namespace ftpsd::vfs {

Result<std::shared_ptr<const LocalFs>> RootHandles::open(const std::string& root) {
  // Opened first, then identified by what was opened: no window between a stat and an open.
  auto fd = sys::open_directory(root);
  if (!fd) return Unexpected{fd.error()};
  auto st = sys::fstat(fd->get());
  if (!st) return Unexpected{st.error()};
  const Key key{st->st_dev, st->st_ino};
  std::lock_guard lock(mutex_);
  auto& slot = open_[key];
  if (auto shared = slot.lock()) return shared;  // `fd` is closed here: the session uses `shared`
  std::shared_ptr<const LocalFs> fresh(new LocalFs(std::move(*fd)));
  slot = fresh;
  if (open_.size() >= sweep_at_) {
    std::erase_if(open_, [](const auto& entry) { return entry.second.expired(); });
    sweep_at_ = std::max<std::size_t>(64, 2 * open_.size());
  }
  return fresh;
}

std::size_t RootHandles::live() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(open_.begin(), open_.end(), [](const auto& entry) { return !entry.second.expired(); }));
}

}  // namespace ftpsd::vfs
