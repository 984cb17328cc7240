#include "vfs/local_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <optional>

#include "sys/syscalls.hpp"
#include "util/limits.hpp"

namespace ftpsd::vfs {
namespace {

std::error_code errc(std::errc e) {
  return std::make_error_code(e);
}

protocol::FileType type_of(mode_t m) {
  if (S_ISREG(m)) return protocol::FileType::kFile;
  if (S_ISDIR(m)) return protocol::FileType::kDirectory;
  if (S_ISLNK(m)) return protocol::FileType::kSymlink;
  return protocol::FileType::kOther;
}

}  // namespace

protocol::FileInfo to_file_info(std::string name, const struct stat& st) {
  return protocol::FileInfo{.name = std::move(name),
                            .type = type_of(st.st_mode),
                            .size = static_cast<std::uint64_t>(st.st_size),
                            .mtime = st.st_mtim.tv_sec,
                            .mode = static_cast<std::uint32_t>(st.st_mode & 07777),
                            .nlink = st.st_nlink,
                            .device = st.st_dev,
                            .inode = st.st_ino};
}

Result<std::shared_ptr<const LocalFs>> LocalFs::open(const std::string& root) {
  auto fd = sys::open_directory(root);
  if (!fd) return Unexpected{fd.error()};
  return std::shared_ptr<const LocalFs>(new LocalFs(std::move(*fd)));
}

Result<sys::UniqueFd> LocalFs::open_parent(const VirtualPath& path) const {
  if (path.is_root()) return Unexpected{errc(std::errc::permission_denied)};
  return sys::open_beneath(root_.get(), path.parent().relative(), O_PATH | O_DIRECTORY);
}

Result<protocol::FileInfo> LocalFs::stat(const VirtualPath& path) const {
  auto fd = sys::open_beneath(root_.get(), path.relative(), O_PATH);
  if (!fd) return Unexpected{fd.error()};
  auto st = sys::fstat(fd->get());
  if (!st) return Unexpected{st.error()};
  return to_file_info(std::string(path.is_root() ? "/" : path.name()), *st);
}

bool LocalFs::is_directory(const VirtualPath& path) const {
  return sys::open_beneath(root_.get(), path.relative(), O_PATH | O_DIRECTORY).has_value();
}

Result<ListingDirectory> LocalFs::open_listing(const VirtualPath& dir) const {
  auto fd = sys::open_beneath(root_.get(), dir.relative(), O_RDONLY | O_DIRECTORY);
  if (!fd) return Unexpected{fd.error()};
  return ListingDirectory(*this, std::move(*fd), dir);
}

Result<NameBatch> ListingDirectory::next_batch() {
  constexpr std::size_t kBufferBytes = 32 * 1024;
  NameBatch batch;
  if (end_) return batch;
  batch.storage = std::make_unique_for_overwrite<std::uint64_t[]>(kBufferBytes / sizeof(std::uint64_t));
  char* buf = reinterpret_cast<char*>(batch.storage.get());
  auto filled = sys::read_directory(fd_.get(), buf, kBufferBytes);
  if (!filled) return Unexpected{filled.error()};
  if (*filled == 0) {
    end_ = true;
    batch.storage.reset();
    return batch;
  }
  sys::for_each_dirent(buf, *filled, [&](std::string_view name, unsigned char) {
    if (name == "." || name == ".." || is_upload_temp(name)) return;
    batch.names.push_back(name);
  });
  return batch;
}

std::optional<protocol::FileInfo> ListingDirectory::stat_entry(const char* name) const {
  auto st = sys::fstatat_nofollow(fd_.get(), name);
  if (!st) return std::nullopt;  // removed meanwhile
  if (S_ISLNK(st->st_mode)) {
    // SECURITY: follow the link only through the confined walk from the root.
    if (auto target = sys::open_beneath(fs_->root_.get(), path_.child(name).relative(), O_PATH)) {
      if (auto tst = sys::fstat(target->get())) st = tst;
    }
  }
  return to_file_info(std::string(), *st);
}

Result<std::vector<protocol::FileInfo>> LocalFs::list(const VirtualPath& dir) const {
  auto listing = open_listing(dir);
  if (!listing) return Unexpected{listing.error()};
  std::vector<protocol::FileInfo> out;
  while (!listing->at_end() && out.size() < limits::kMaxListingEntries) {
    auto batch = listing->next_batch();
    if (!batch) return Unexpected{batch.error()};
    for (const auto name : batch->names) {
      auto info = listing->stat_entry(name.data());
      if (!info) continue;
      info->name = std::string(name);
      out.push_back(std::move(*info));
      if (out.size() >= limits::kMaxListingEntries) break;
    }
  }
  return out;
}

Result<sys::UniqueFd> LocalFs::open_read(const VirtualPath& path, bool cached_only) const {
  auto fd = sys::open_beneath(root_.get(), path.relative(), O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, cached_only);
  if (!fd) return fd;
  auto st = sys::fstat(fd->get());
  if (!st) return Unexpected{st.error()};
  if (S_ISDIR(st->st_mode)) return Unexpected{errc(std::errc::is_a_directory)};
  if (!S_ISREG(st->st_mode)) return Unexpected{errc(std::errc::permission_denied)};
  // Regular files ignore O_NONBLOCK; it was only there so that opening a FIFO cannot hang.
  ::fcntl(fd->get(), F_SETFL, 0);
  return fd;
}

Result<sys::UniqueFd> LocalFs::open_write(const VirtualPath& path, WriteMode mode, bool* created) const {
  if (path.is_root()) return Unexpected{errc(std::errc::is_a_directory)};
  int flags = O_WRONLY | O_NOCTTY | O_NONBLOCK;
  if (mode == WriteMode::kAppend) flags |= O_APPEND;
  // Create with O_EXCL first, so that we know whether the file is ours; an existing file is then
  // opened without O_CREAT (twice at most: it may vanish in between).
  Result<sys::UniqueFd> fd = Unexpected{errc(std::errc::file_exists)};
  bool made = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    fd = sys::open_beneath(root_.get(), path.relative(), flags | O_CREAT | O_EXCL, 0644);
    if (fd || fd.error() != std::errc::file_exists || mode == WriteMode::kCreateNew) {
      made = fd.has_value();
      break;
    }
    fd = sys::open_beneath(root_.get(), path.relative(), flags);
    if (fd || fd.error() != std::errc::no_such_file_or_directory) break;
  }
  if (created != nullptr) *created = made;
  if (!fd) return fd;
  auto st = sys::fstat(fd->get());
  if (!st) return Unexpected{st.error()};
  if (!S_ISREG(st->st_mode)) return Unexpected{errc(std::errc::permission_denied)};
  ::fcntl(fd->get(), F_SETFL, mode == WriteMode::kAppend ? O_APPEND : 0);
  return fd;
}

const std::string& upload_run_id() {
  static const std::string id = sys::random_hex(4);
  return id;
}

Result<PendingUpload> LocalFs::create_upload(const VirtualPath& target, bool must_not_exist) const {
  if (target.is_root()) return Unexpected{errc(std::errc::is_a_directory)};
  auto dir = sys::open_beneath(root_.get(), target.parent().relative(), O_RDONLY | O_DIRECTORY);
  if (!dir) return Unexpected{dir.error()};
  const std::string name(target.name());
  std::optional<mode_t> keep_mode;  // the replaced file's permission bits
  if (auto st = sys::fstatat_nofollow(dir->get(), name)) {
    if (must_not_exist) return Unexpected{errc(std::errc::file_exists)};
    if (S_ISDIR(st->st_mode)) return Unexpected{errc(std::errc::is_a_directory)};
    // A symlink is not replaced: the caller writes through it in place (confined like any path).
    if (S_ISLNK(st->st_mode)) return Unexpected{errc(std::errc::too_many_symbolic_link_levels)};
    if (!S_ISREG(st->st_mode)) return Unexpected{errc(std::errc::permission_denied)};  // devices, FIFOs
    keep_mode = st->st_mode & 0777;
  } else if (st.error() != std::errc::no_such_file_or_directory) {
    return Unexpected{st.error()};
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::string temp = std::string(kUploadTempPrefix) + upload_run_id() + "." + sys::random_hex(8);
    // O_EXCL: a name that exists (a planted symlink included) is never opened.
    auto file = sys::open_beneath(dir->get(), temp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, 0644);
    if (!file && file.error() == std::errc::file_exists) continue;
    if (!file) return Unexpected{file.error()};
    PendingUpload upload(std::move(*dir), std::move(*file), std::move(temp), name, must_not_exist);
    if (keep_mode) {
      if (auto ec = sys::fchmod(upload.fd(), *keep_mode)) return Unexpected{ec};
    }
    return upload;
  }
  return Unexpected{errc(std::errc::file_exists)};
}

std::error_code PendingUpload::commit(bool sync) {
  if (temp_.empty()) return errc(std::errc::invalid_argument);
  if (auto ec = sys::rename_file(dir_.get(), temp_, dir_.get(), target_, no_replace_)) return ec;
  temp_.clear();
  if (sync) return sys::fsync_directory(dir_.get());
  return {};
}

void PendingUpload::discard() noexcept {
  if (temp_.empty() || !dir_.valid()) return;
  (void)sys::unlinkat(dir_.get(), temp_, false);
  temp_.clear();
}

namespace {

constexpr int kMaxCleanupDepth = 128;

// Depth-first over `dirfd` (owned by the caller). Symlinks are never followed: only real
// subdirectories are opened, with O_NOFOLLOW, relative to their parent.
void remove_stale_in(int dirfd, std::int64_t before, std::size_t max_entries, int depth, StaleCleanup& out) {
  const std::string own = std::string(kUploadTempPrefix) + upload_run_id() + ".";
  auto listing = sys::open_beneath(dirfd, ".", O_RDONLY | O_DIRECTORY);
  if (!listing) return;
  DIR* d = ::fdopendir(listing->get());
  if (d == nullptr) return;
  listing->release();
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  std::vector<std::string> subdirs;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (++out.visited > max_entries) {
      out.truncated = true;
      return;
    }
    if (e->d_type == DT_DIR) {
      subdirs.push_back(name);
      continue;
    }
    if (!is_upload_temp(name) || name.starts_with(own)) {
      if (e->d_type == DT_UNKNOWN) subdirs.push_back(name);  // checked when opened
      continue;
    }
    auto st = sys::fstatat_nofollow(dirfd, name);
    if (st && S_ISREG(st->st_mode) && st->st_mtim.tv_sec <= before && !sys::unlinkat(dirfd, name, false))
      ++out.removed;
  }
  guard.reset();
  if (depth >= kMaxCleanupDepth) return;
  for (const auto& name : subdirs) {
    auto sub = sys::open_beneath(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW);
    if (!sub) continue;
    remove_stale_in(sub->get(), before, max_entries, depth + 1, out);
    if (out.truncated) return;
  }
}

}  // namespace

StaleCleanup LocalFs::remove_stale_uploads(std::int64_t before, std::size_t max_entries) const {
  StaleCleanup out;
  remove_stale_in(root_.get(), before, max_entries, 0, out);
  return out;
}

std::error_code LocalFs::make_directory(const VirtualPath& path) const {
  auto parent = open_parent(path);
  if (!parent) return parent.error();
  return sys::mkdirat(parent->get(), std::string(path.name()), 0755);
}

std::error_code LocalFs::remove_directory(const VirtualPath& path) const {
  auto parent = open_parent(path);
  if (!parent) return parent.error();
  return sys::unlinkat(parent->get(), std::string(path.name()), true);
}

std::error_code LocalFs::remove_file(const VirtualPath& path) const {
  auto parent = open_parent(path);
  if (!parent) return parent.error();
  auto st = sys::fstatat_nofollow(parent->get(), std::string(path.name()));
  if (!st) return st.error();
  if (S_ISDIR(st->st_mode)) return errc(std::errc::is_a_directory);
  return sys::unlinkat(parent->get(), std::string(path.name()), false);
}

std::error_code LocalFs::rename(const VirtualPath& from, const VirtualPath& to) const {
  auto from_parent = open_parent(from);
  if (!from_parent) return from_parent.error();
  auto to_parent = open_parent(to);
  if (!to_parent) return to_parent.error();
  return sys::renameat_noreplace_dir(from_parent->get(), std::string(from.name()), to_parent->get(),
                                     std::string(to.name()));
}

std::error_code LocalFs::set_mtime(const VirtualPath& path, std::int64_t seconds) const {
  auto fd = sys::open_beneath(root_.get(), path.relative(), O_PATH);
  if (!fd) return fd.error();
  return sys::set_mtime(fd->get(), seconds);
}

std::error_code LocalFs::chmod(const VirtualPath& path, mode_t mode) const {
  auto fd = sys::open_beneath(root_.get(), path.relative(), O_PATH | O_NOFOLLOW);
  if (!fd) return fd.error();
  return sys::chmod_fd(fd->get(), mode & 07777);
}

}  // namespace ftpsd::vfs
