#pragma once
// The raw system calls of the server, each returning an error_code instead of setting errno.
// Only this folder calls the kernel directly for files; EINTR is retried here.
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "sys/fd.hpp"
#include "util/result.hpp"

namespace ftpsd::sys {

[[nodiscard]] inline std::error_code last_error() noexcept {
  return {errno, std::system_category()};
}

// SECURITY: openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: the kernel refuses any path that
// would leave `dirfd` through "..", an absolute path or a symlink (EXDEV), or that uses /proc magic links.
// `cached_only` adds RESOLVE_CACHED: EAGAIN instead of waiting for the disk when a step of the path
// is not in the dentry cache, so that the open is safe on an event loop (O_CREAT/O_TRUNC excluded).
[[nodiscard]] Result<UniqueFd> open_beneath(int dirfd, const std::string& relative, int flags,
                                            mode_t mode = 0, bool cached_only = false);

[[nodiscard]] Result<UniqueFd> open_directory(const std::string& path);  // O_PATH root handle
[[nodiscard]] Result<struct stat> fstat(int fd);
[[nodiscard]] Result<struct stat> fstatat_nofollow(int dirfd, const std::string& name);
[[nodiscard]] Result<struct stat> fstatat_nofollow(int dirfd, const char* name);  // NUL-terminated
// getdents64: fills `buf` (8-byte aligned) with the next entries of the directory open as `fd`;
// returns the bytes filled, 0 at the end. for_each_dirent walks them.
[[nodiscard]] Result<std::size_t> read_directory(int fd, char* buf, std::size_t size);
// Calls f(std::string_view name, unsigned char d_type) for each entry in the first `filled` bytes of
// a read_directory buffer. Names are NUL-terminated in the buffer (name.data()[name.size()] == 0).
template <class F>
void for_each_dirent(const char* buf, std::size_t filled, F&& f) {
  struct Record {  // the kernel's struct linux_dirent64
    std::uint64_t ino;
    std::int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
  };
  for (std::size_t at = 0; at < filled;) {
    const auto* r = reinterpret_cast<const Record*>(buf + at);
    if (r->reclen == 0) break;
    f(std::string_view(r->name), r->type);
    at += r->reclen;
  }
}
[[nodiscard]] std::error_code mkdirat(int dirfd, const std::string& name, mode_t mode);
[[nodiscard]] std::error_code unlinkat(int dirfd, const std::string& name, bool directory);
[[nodiscard]] std::error_code renameat_noreplace_dir(int olddir, const std::string& oldname, int newdir,
                                                     const std::string& newname);
[[nodiscard]] std::error_code set_mtime(int fd, std::int64_t seconds);  // fd may be O_PATH
[[nodiscard]] std::error_code chmod_fd(int fd, mode_t mode);            // fd may be O_PATH
[[nodiscard]] Result<std::size_t> pread(int fd, void* buf, std::size_t n, std::uint64_t offset);
// pread that never waits for the disk (preadv2 RWF_NOWAIT): what the page cache holds, or nothing
// (std::nullopt) when the read would block or the file system cannot say. Safe on an event loop.
[[nodiscard]] std::optional<std::size_t> pread_cached(int fd, void* buf, std::size_t n, std::uint64_t offset);
[[nodiscard]] Result<std::size_t> pwrite_all(int fd, const void* buf, std::size_t n, std::uint64_t offset);
[[nodiscard]] std::error_code fsync(int fd);  // fdatasync: the data and what is needed to read it
// Starts writing the range to the disk without waiting (sync_file_range SYNC_FILE_RANGE_WRITE): a
// hint that makes a later fsync shorter; it guarantees nothing, so it reports no error.
void start_writeback(int fd, std::uint64_t offset, std::uint64_t length) noexcept;
[[nodiscard]] std::error_code fsync_directory(int dirfd);  // fsync of a directory opened O_RDONLY
// Lowers the calling thread's CPU priority to `nice` (0 to 19; threads it starts later inherit it).
[[nodiscard]] std::error_code lower_thread_priority(int nice);
// renameat for files; `no_replace`: renameat2(RENAME_NOREPLACE), EEXIST when `newname` exists.
[[nodiscard]] std::error_code rename_file(int olddir, const std::string& oldname, int newdir,
                                          const std::string& newname, bool no_replace);
[[nodiscard]] std::error_code fchmod(int fd, mode_t mode);  // fd: a real (not O_PATH) descriptor
// `bytes` random bytes from the kernel (getrandom), as lower-case hex.
[[nodiscard]] std::string random_hex(std::size_t bytes);
// A UniformRandomBitGenerator over the kernel's CSPRNG (getrandom), for the standard distributions
// where a client must not guess what comes next (the passive port order). One system call per value;
// throws std::system_error if the kernel refuses, which Linux (3.17 and later) does not.
struct KernelRandom {
  using result_type = std::uint64_t;
  [[nodiscard]] static constexpr result_type min() noexcept { return 0; }
  [[nodiscard]] static constexpr result_type max() noexcept { return ~result_type{0}; }
  [[nodiscard]] result_type operator()();
};
[[nodiscard]] std::error_code ftruncate(int fd, std::uint64_t size);

// RLIMIT_NOFILE before and after raise_open_file_limit.
struct OpenFileLimit {
  std::uint64_t soft_before = 0;
  std::uint64_t hard_before = 0;
  std::uint64_t soft = 0;  // now
  std::uint64_t hard = 0;  // now
};
// Raises the soft open-file limit to the hard limit, and both to `wanted` if the hard limit is lower
// and the process may raise it (CAP_SYS_RESOURCE; never above /proc/sys/fs/nr_open). Never lowers.
[[nodiscard]] Result<OpenFileLimit> raise_open_file_limit(std::uint64_t wanted);

}  // namespace ftpsd::sys

namespace ftpsd::sys {
// sendfile(2) from `in_fd` at *offset to a non-blocking socket. Returns bytes sent (0 at end of file)
// or an error (would_block when the socket buffer is full).
[[nodiscard]] Result<std::size_t> sendfile(int out_fd, int in_fd, std::uint64_t& offset, std::size_t count);
}  // namespace ftpsd::sys

namespace ftpsd::sys {
// Processes: for the pid file and `ftpsd reload`.
[[nodiscard]] int process_id() noexcept;
// The numeric IP address of a connected socket's peer ("127.0.0.1", "::1"); nullopt when unknown.
[[nodiscard]] std::optional<std::string> peer_address(int fd);
[[nodiscard]] std::error_code send_signal(int pid, int signal);
// This machine's host name (gethostname); "localhost" when the kernel gives none.
[[nodiscard]] std::string host_name();

// Replaces the file `path` with `text` so that a crash leaves the old or the new text, never a mix, and
// the new one is on the disk when this returns: a temporary beside it (mode `mode`), fsync, rename,
// fsync of the folder.
[[nodiscard]] std::error_code write_file_durably(const std::string& path, std::string_view text, mode_t mode);
}  // namespace ftpsd::sys
