#include "sys/syscalls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <fstream>

namespace ftpsd::sys {
namespace {

template <class F>
auto retry_eintr(F f) {
  for (;;) {
    auto r = f();
    if (r >= 0 || errno != EINTR) return r;
  }
}

std::error_code ok_or_errno(int rc) {
  return rc == 0 ? std::error_code{} : last_error();
}

}  // namespace

Result<UniqueFd> open_beneath(int dirfd, const std::string& relative, int flags, mode_t mode,
                              bool cached_only) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (cached_only ? RESOLVE_CACHED : 0);
  const auto fd =
      retry_eintr([&] { return ::syscall(SYS_openat2, dirfd, relative.c_str(), &how, sizeof how); });
  if (fd < 0) return Unexpected{last_error()};
  return UniqueFd(static_cast<int>(fd));
}

std::error_code write_file_durably(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (raw < 0) return last_error();
  UniqueFd fd(raw);
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const auto ec = last_error();
      ::unlink(tmp.c_str());
      return ec;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::fchmod(fd.get(), mode) != 0) {
    const auto ec = last_error();
    ::unlink(tmp.c_str());
    return ec;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const auto ec = last_error();
    ::unlink(tmp.c_str());
    return ec;
  }
  const auto slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return last_error();
  UniqueFd dir_fd(dir);
  if (::fsync(dir_fd.get()) != 0) return last_error();
  return {};
}

Result<UniqueFd> open_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unexpected{last_error()};
  return UniqueFd(fd);
}

Result<struct stat> fstat(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Unexpected{last_error()};
  return st;
}

Result<struct stat> fstatat_nofollow(int dirfd, const std::string& name) {
  return fstatat_nofollow(dirfd, name.c_str());
}

Result<struct stat> fstatat_nofollow(int dirfd, const char* name) {
  struct stat st {};
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return Unexpected{last_error()};
  return st;
}

Result<std::size_t> read_directory(int fd, char* buf, std::size_t size) {
  const auto n = retry_eintr([&] { return ::syscall(SYS_getdents64, fd, buf, size); });
  if (n < 0) return Unexpected{last_error()};
  return static_cast<std::size_t>(n);
}

std::error_code mkdirat(int dirfd, const std::string& name, mode_t mode) {
  return ok_or_errno(::mkdirat(dirfd, name.c_str(), mode));
}

std::error_code unlinkat(int dirfd, const std::string& name, bool directory) {
  return ok_or_errno(::unlinkat(dirfd, name.c_str(), directory ? AT_REMOVEDIR : 0));
}

std::error_code renameat_noreplace_dir(int olddir, const std::string& oldname, int newdir,
                                       const std::string& newname) {
  // Replacing an existing directory by rename would silently delete it: refuse that, allow files.
  struct stat target {};
  if (::fstatat(newdir, newname.c_str(), &target, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(target.st_mode))
    return std::make_error_code(std::errc::file_exists);
  return ok_or_errno(::renameat(olddir, oldname.c_str(), newdir, newname.c_str()));
}

// An O_PATH descriptor cannot be passed to futimens/fchmod; its /proc/self/fd link can (the kernel
// follows it to exactly that inode, so no path is re-resolved).
Result<OpenFileLimit> raise_open_file_limit(std::uint64_t wanted) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return Unexpected{last_error()};
  OpenFileLimit out{lim.rlim_cur, lim.rlim_max, lim.rlim_cur, lim.rlim_max};
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) {
    std::uint64_t nr_open = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    if (nr_open > 0 && wanted > nr_open) wanted = nr_open;
    if (wanted > lim.rlim_max) {
      const rlimit higher{wanted, wanted};
      if (::setrlimit(RLIMIT_NOFILE, &higher) == 0) {
        out.soft = out.hard = wanted;
        return out;
      }
      // EPERM without CAP_SYS_RESOURCE: the hard limit is the best we can do.
    }
  }
  if (lim.rlim_cur != lim.rlim_max) {
    const rlimit all{lim.rlim_max, lim.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &all) != 0) return Unexpected{last_error()};
    out.soft = lim.rlim_max;
  }
  return out;
}

std::error_code set_mtime(int fd, std::int64_t seconds) {
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(seconds), 0}};
  return ok_or_errno(::utimensat(AT_FDCWD, proc.c_str(), times, 0));
}

std::error_code chmod_fd(int fd, mode_t mode) {
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  return ok_or_errno(::fchmodat(AT_FDCWD, proc.c_str(), mode, 0));
}

Result<std::size_t> pread(int fd, void* buf, std::size_t n, std::uint64_t offset) {
  const auto r = retry_eintr([&] { return ::pread(fd, buf, n, static_cast<off_t>(offset)); });
  if (r < 0) return Unexpected{last_error()};
  return static_cast<std::size_t>(r);
}

std::optional<std::size_t> pread_cached(int fd, void* buf, std::size_t n, std::uint64_t offset) {
  iovec iov{.iov_base = buf, .iov_len = n};
  const auto r = retry_eintr([&] { return ::preadv2(fd, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT); });
  // EAGAIN: not (all) in the page cache; EOPNOTSUPP: a file system without RWF_NOWAIT. 0 is the end
  // of the file, as for pread.
  if (r < 0) return std::nullopt;
  return static_cast<std::size_t>(r);
}

Result<std::size_t> pwrite_all(int fd, const void* buf, std::size_t n, std::uint64_t offset) {
  const auto* p = static_cast<const char*>(buf);
  std::size_t done = 0;
  while (done < n) {
    const auto r =
        retry_eintr([&] { return ::pwrite(fd, p + done, n - done, static_cast<off_t>(offset + done)); });
    if (r < 0) return Unexpected{last_error()};
    done += static_cast<std::size_t>(r);
  }
  return done;
}

std::error_code fsync(int fd) {
  return ok_or_errno(retry_eintr([&] { return ::fdatasync(fd); }));
}

void start_writeback(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
  // Errors (EIO, a file system without it) show at the fsync that follows, which is what counts.
  (void)retry_eintr([&] {
    return ::sync_file_range(fd, static_cast<off64_t>(offset), static_cast<off64_t>(length),
                             SYNC_FILE_RANGE_WRITE);
  });
}

std::error_code fsync_directory(int dirfd) {
  return ok_or_errno(retry_eintr([&] { return ::fsync(dirfd); }));
}

std::error_code rename_file(int olddir, const std::string& oldname, int newdir, const std::string& newname,
                            bool no_replace) {
  return ok_or_errno(
      ::renameat2(olddir, oldname.c_str(), newdir, newname.c_str(), no_replace ? RENAME_NOREPLACE : 0U));
}

std::error_code fchmod(int fd, mode_t mode) {
  return ok_or_errno(::fchmod(fd, mode));
}

KernelRandom::result_type KernelRandom::operator()() {
  std::array<std::byte, sizeof(result_type)> raw{};
  std::size_t got = 0;
  while (got < raw.size()) {
    const auto n = retry_eintr([&] { return ::getrandom(raw.data() + got, raw.size() - got, 0); });
    if (n < 0) throw std::system_error(last_error(), "getrandom");
    got += static_cast<std::size_t>(n);
  }
  return std::bit_cast<result_type>(raw);
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const auto n = retry_eintr([&] { return ::getrandom(raw.data() + got, bytes - got, 0); });
    if (n <= 0) break;  // getrandom does not fail for small requests once the pool is ready
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::error_code ftruncate(int fd, std::uint64_t size) {
  return ok_or_errno(::ftruncate(fd, static_cast<off_t>(size)));
}

}  // namespace ftpsd::sys

#include <sys/sendfile.h>

namespace ftpsd::sys {
Result<std::size_t> sendfile(int out_fd, int in_fd, std::uint64_t& offset, std::size_t count) {
  auto off = static_cast<off_t>(offset);
  const auto n = retry_eintr([&] { return ::sendfile(out_fd, in_fd, &off, count); });
  if (n < 0) return Unexpected{last_error()};
  offset = static_cast<std::uint64_t>(off);
  return static_cast<std::size_t>(n);
}
}  // namespace ftpsd::sys

namespace ftpsd::sys {

int process_id() noexcept {
  return static_cast<int>(::getpid());
}

std::error_code send_signal(int pid, int signal) {
  return ok_or_errno(::kill(static_cast<pid_t>(pid), signal));
}

std::string host_name() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return {name.data()};
}

std::optional<std::string> peer_address(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return std::nullopt;
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* address = nullptr;
  if (peer.ss_family == AF_INET) {
    address = &reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr;
  } else if (peer.ss_family == AF_INET6) {
    address = &reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_addr;
  } else {
    return std::nullopt;
  }
  if (::inet_ntop(peer.ss_family, address, text.data(), text.size()) == nullptr) return std::nullopt;
  return std::string(text.data());
}

std::error_code lower_thread_priority(int nice) {
  // On Linux the nice value belongs to the thread: PRIO_PROCESS with the thread's id.
  const auto tid = static_cast<id_t>(::gettid());
  return ::setpriority(PRIO_PROCESS, tid, nice) == 0 ? std::error_code{} : last_error();
}

}  // namespace ftpsd::sys
