#include "vfs/local_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

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

Result<std::vector<protocol::FileInfo>> LocalFs::list(const VirtualPath& dir) const {
  auto fd = sys::open_beneath(root_.get(), dir.relative(), O_RDONLY | O_DIRECTORY);
  if (!fd) return Unexpected{fd.error()};
  DIR* d = ::fdopendir(fd->get());
  if (d == nullptr) return Unexpected{sys::last_error()};
  const int dfd = fd->release();  // owned by `d` from now on
  std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
  std::vector<protocol::FileInfo> out;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    auto st = sys::fstatat_nofollow(dfd, name);
    if (!st) continue;  // removed meanwhile
    if (S_ISLNK(st->st_mode)) {
      // SECURITY: follow the link only through the confined walk from the root.
      if (auto target = sys::open_beneath(root_.get(), dir.child(name).relative(), O_PATH)) {
        if (auto tst = sys::fstat(target->get())) st = tst;
      }
    }
    out.push_back(to_file_info(name, *st));
    if (out.size() >= limits::kMaxListingEntries) break;
  }
  return out;
}

Result<sys::UniqueFd> LocalFs::open_read(const VirtualPath& path) const {
  auto fd = sys::open_beneath(root_.get(), path.relative(), O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return fd;
  auto st = sys::fstat(fd->get());
  if (!st) return Unexpected{st.error()};
  if (S_ISDIR(st->st_mode)) return Unexpected{errc(std::errc::is_a_directory)};
  if (!S_ISREG(st->st_mode)) return Unexpected{errc(std::errc::permission_denied)};
  // Regular files ignore O_NONBLOCK; it was only there so that opening a FIFO cannot hang.
  ::fcntl(fd->get(), F_SETFL, 0);
  return fd;
}

Result<sys::UniqueFd> LocalFs::open_write(const VirtualPath& path, WriteMode mode) const {
  if (path.is_root()) return Unexpected{errc(std::errc::is_a_directory)};
  int flags = O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK;
  if (mode == WriteMode::kAppend) flags |= O_APPEND;
  if (mode == WriteMode::kCreateNew) flags |= O_EXCL;
  auto fd = sys::open_beneath(root_.get(), path.relative(), flags, 0644);
  if (!fd) return fd;
  auto st = sys::fstat(fd->get());
  if (!st) return Unexpected{st.error()};
  if (!S_ISREG(st->st_mode)) return Unexpected{errc(std::errc::permission_denied)};
  ::fcntl(fd->get(), F_SETFL, mode == WriteMode::kAppend ? O_APPEND : 0);
  return fd;
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
