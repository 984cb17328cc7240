#pragma once
// The copy loops between a data connection and a file. Clear binary downloads use sendfile; TLS and
// ASCII go through user-space buffers, with the disk side on the blocking pool and the two sides
// overlapped (read the next chunk while the previous one is sent).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "net/rate_limiter.hpp"
#include "runtime/asio.hpp"
#include "runtime/blocking_pool.hpp"
#include "tls/stream.hpp"
#include "util/duration.hpp"

namespace ftpsd::session {

enum class TransferStatus : std::uint8_t {
  kOk,
  kNetworkError,  // the data connection failed or was closed (also: ABOR or the stall timer closed it)
  kLocalError,    // reading or writing the file failed
  kDiskFull,      // ENOSPC / EDQUOT / EFBIG (is_storage_full)
  kStalled,       // no byte moved for the stall timeout (TransferSlot closed the connection)
};

struct TransferOutcome {
  TransferStatus status = TransferStatus::kOk;
  std::error_code error;
  std::uint64_t bytes = 0;  // bytes moved on the data connection
};

// The bandwidth limits of one transfer: the global bucket shared by all sessions and the session's
// own (the user's rate). Rates in bytes per second; 0: that limit is off.
struct Throttle {
  net::RateLimiter* shared = nullptr;
  std::uint64_t shared_rate = 0;
  std::shared_ptr<net::RateLimiter> own;
  std::uint64_t own_rate = 0;

  [[nodiscard]] bool active() const noexcept { return (shared && shared_rate) || (own && own_rate); }
  // The most to move at once: about 1/16 s at the slower rate (at least 4 KiB), `max` when unlimited.
  [[nodiscard]] std::size_t chunk(std::size_t max) const noexcept;
};

struct TransferOptions {
  bool ascii = false;
  std::uint64_t offset = 0;  // REST
  Throttle throttle;
  // Uploads: the file is flushed before the 226 (storage.fsync). The disk writeback of each piece
  // starts as soon as it is written, so the final flush has only the tail left to wait for.
  bool durable = false;
};

// Progress visible to STAT and to the session registry (other threads) while the transfer runs. The
// transfer loops add to `bytes` once per piece (relaxed atomics: no ordering with anything else); the
// stall timer of TransferSlot watches it. The loops themselves have no timeout: the slot closes a
// connection where nothing moves, and they end with kNetworkError.
struct TransferProgress {
  std::string description;  // "RETR /path"; set before the transfer starts, then read only
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> total{0};  // 0 when unknown
};

// ENOSPC (the file system is full), EDQUOT (the quota is used up), EFBIG (the file is larger than
// the file system or RLIMIT_FSIZE allows): storage errors with replies of their own (452/552).
[[nodiscard]] bool is_storage_full(const std::error_code& ec) noexcept;
// The outcome of a transfer that failed on the file's side (a read, a write, a flush) after `bytes`:
// kDiskFull when is_storage_full(ec), kLocalError otherwise.
[[nodiscard]] TransferOutcome local_failure(std::error_code ec, std::uint64_t bytes) noexcept;

Task<TransferOutcome> send_file(tls::Stream& data, int fd, TransferOptions opts, runtime::BlockingPool& pool,
                                TransferProgress& progress);
// Receives an upload into `fd` (from opts.offset on). `received` runs (on the caller's executor) once
// the data connection is done, in order or not: what follows moves no byte, so it is no stall.
// `finish` (the flush and the rename of an upload) runs on the worker pool right after the last piece
// is written, in the same hop; an error from it fails the transfer like a write error (kDiskFull or
// kLocalError).
Task<TransferOutcome> receive_file(tls::Stream& data, int fd, TransferOptions opts,
                                   runtime::BlockingPool& pool, TransferProgress& progress,
                                   const std::function<std::error_code()>& finish = {},
                                   const std::function<void()>& received = {});
// A listing: `bytes` as they are (the listing is built in network form).
Task<TransferOutcome> send_bytes(tls::Stream& data, std::string bytes, TransferProgress& progress);

}  // namespace ftpsd::session
