#include "session/transfer.hpp"

#include <algorithm>
#include <memory>

#include "protocol/ascii.hpp"
#include "sys/syscalls.hpp"

namespace ftpsd::session {

bool is_storage_full(const std::error_code& ec) noexcept {
  if (ec.category() != std::system_category() && ec.category() != std::generic_category()) return false;
  return ec.value() == ENOSPC || ec.value() == EDQUOT || ec.value() == EFBIG;
}

TransferOutcome local_failure(std::error_code ec, std::uint64_t bytes) noexcept {
  return {is_storage_full(ec) ? TransferStatus::kDiskFull : TransferStatus::kLocalError, ec, bytes};
}

namespace {

using namespace asio::experimental::awaitable_operators;

constexpr std::size_t kChunk = 256 * 1024;
// The batch buffer of a TLS download sending pieces of `bytes`: the records and the close_notify.
constexpr std::size_t batch_buffer(std::size_t bytes) {
  return bytes + bytes / 256 + 1024;
}
// Tried on loopback: TCP_CORK (as ProFTPD sets it around its one blocking sendfile) together with
// 16 MiB calls made this non-blocking loop slower, with twice the server CPU per GiB.
constexpr std::size_t kSendfileChunk = 4 * 1024 * 1024;
constexpr std::uint64_t kWritebackWindow = 8 * 1024 * 1024;  // durable uploads: start writing to the disk
constexpr std::uint64_t kYieldEvery = 16 * 1024 * 1024;      // let the other sessions of this loop run

// Bandwidth limits: waits (on a timer) until `bytes` may have moved at both rates.
Task<void> pace(const Throttle& t, std::uint64_t bytes) {
  if (!t.active()) co_return;
  const auto now = net::RateLimiter::Clock::now();
  auto wait = net::RateLimiter::Clock::duration::zero();
  if (t.shared && t.shared_rate) wait = t.shared->reserve(bytes, t.shared_rate, now);
  if (t.own && t.own_rate) wait = std::max(wait, t.own->reserve(bytes, t.own_rate, now));
  if (wait <= net::RateLimiter::Clock::duration::zero()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, wait);
  co_await timer.async_wait(kTuple);
}

Task<TransferOutcome> sendfile_loop(tls::Stream& data, int fd, std::uint64_t offset, const Throttle& throttle,
                                    TransferProgress& progress) {
  auto& socket = data.socket();
  std::error_code ec;
  socket.non_blocking(true, ec);
  std::uint64_t since_yield = 0;
  const std::size_t chunk = throttle.chunk(kSendfileChunk);
  for (;;) {
    auto n = sys::sendfile(socket.native_handle(), fd, offset, chunk);
    if (n && *n == 0) co_return TransferOutcome{TransferStatus::kOk, {}, progress.bytes};
    if (n) {
      progress.bytes += *n;
      if (throttle.active()) {
        co_await pace(throttle, *n);
        continue;
      }
      since_yield += *n;
      if (since_yield >= kYieldEvery) {
        since_yield = 0;
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      }
      continue;
    }
    if (n.error() == std::errc::resource_unavailable_try_again) {
      auto [wec] = co_await socket.async_wait(asio::ip::tcp::socket::wait_write, kTuple);
      if (wec) co_return TransferOutcome{TransferStatus::kNetworkError, wec, progress.bytes};
      continue;
    }
    // EINVAL/ENOSYS: a file system without sendfile support is reported as a local error.
    const bool net = n.error() == std::errc::broken_pipe || n.error() == std::errc::connection_reset;
    co_return TransferOutcome{net ? TransferStatus::kNetworkError : TransferStatus::kLocalError, n.error(),
                              progress.bytes};
  }
}

Task<TransferOutcome> buffered_send_loop(tls::Stream& data, int fd, TransferOptions opts,
                                         runtime::BlockingPool& pool, TransferProgress& progress) {
  // Buffers sized to the file (a 4 KiB file needs no 512 KiB of fresh, zeroed pages), never zeroed;
  // with a bandwidth limit at most about 1/16 s worth.
  // (progress.total: the bytes the handler expects to send from opts.offset on; it may grow.)
  const std::size_t size =
      static_cast<std::size_t>(std::clamp<std::uint64_t>(progress.total, 4096, opts.throttle.chunk(kChunk)));
  auto current = std::make_unique_for_overwrite<char[]>(size);
  auto next = std::make_unique_for_overwrite<char[]>(size);
  // TLS: the records of one chunk leave in one write(2) (the buffer holds a chunk and its record
  // overhead, 22 bytes per 16 KiB record with TLS 1.3 AES-GCM, and the close_notify).
  if (data.secure()) data.batch_writes(batch_buffer(size));
  std::string wire;
  bool last_cr = false;
  std::uint64_t file_pos = opts.offset;
  // What the page cache holds is read right here; only a read that would wait for the disk goes to
  // the worker pool (a thread hop per chunk is most of the cost of a small file).
  auto read_chunk = [&](char* buf) -> Task<Result<std::size_t>> {
    if (auto n = sys::pread_cached(fd, buf, size, file_pos)) co_return *n;
    co_return co_await pool.run([&] { return sys::pread(fd, buf, size, file_pos); });
  };
  auto got = co_await read_chunk(current.get());
  for (;;) {
    if (!got) co_return TransferOutcome{TransferStatus::kLocalError, got.error(), progress.bytes};
    const std::size_t n = *got;
    if (n == 0) co_return TransferOutcome{TransferStatus::kOk, {}, progress.bytes};
    file_pos += n;
    std::string_view out(current.get(), n);
    if (opts.ascii) {
      protocol::to_network_ascii(out, wire, last_cr);
      out = wire;
    }
    if (opts.throttle.active()) co_await pace(opts.throttle, out.size());
    // Send this chunk while the next one is read from the disk. The last one (as far as the size
    // known at the start goes) stays in the batch buffer and leaves with the close_notify.
    const bool last = file_pos - opts.offset >= progress.total;
    auto [wec, wn, more] = co_await (data.write_all(asio::buffer(out), !last) && read_chunk(next.get()));
    if (wec) co_return TransferOutcome{TransferStatus::kNetworkError, wec, progress.bytes};
    progress.bytes += wn;
    got = more;
    std::swap(current, next);
  }
}

// The last piece of an upload, left for receive_file to write together with the caller's `finish`.
struct LastPiece {
  std::unique_ptr<char[]> raw;
  std::string text;  // ASCII
  std::string_view bytes;
  std::uint64_t file_pos = 0;
};

// Receives until the end of the data: every piece but the last is written (the last goes to `last`).
Task<TransferOutcome> receive_loop(tls::Stream& data, int fd, TransferOptions opts,
                                   runtime::BlockingPool& pool, TransferProgress& progress, LastPiece& last) {
  const std::size_t chunk = opts.throttle.chunk(kChunk);
  // Never zeroed, and the second buffer only once the upload outgrows the first: a 4 KiB file
  // touches a page or two of them, not 512 KiB of fresh memory.
  auto current = std::make_unique_for_overwrite<char[]>(chunk);
  std::unique_ptr<char[]> previous;
  std::string converted;           // ASCII: `current` with CRLF turned into LF
  std::string previous_converted;  // ... and the previous piece's
  std::string_view pending;        // the previous piece, written to the disk while `current` fills
  bool pending_cr = false;
  std::uint64_t file_pos = opts.offset;
  std::uint64_t writeback_from = opts.offset;  // durable: where the writeback not yet started begins
  // One worker hop per piece: the write and, for an upload flushed before its 226, the start of its
  // writeback, so that the final fdatasync waits only for the last pieces, not for the whole file.
  auto write_piece = [&](std::string_view bytes) -> Task<std::error_code> {
    if (bytes.empty()) co_return std::error_code{};
    auto ec = co_await pool.run([&]() -> std::error_code {
      if (auto w = sys::pwrite_all(fd, bytes.data(), bytes.size(), file_pos); !w) return w.error();
      // In windows of several pieces: fewer, larger disk writes (and block allocations).
      if (const auto end = file_pos + bytes.size();
          opts.durable && end - writeback_from >= kWritebackWindow) {
        sys::start_writeback(fd, writeback_from, end - writeback_from);
        writeback_from = end;
      }
      return {};
    });
    if (!ec) file_pos += bytes.size();
    co_return ec;
  };
  // Fills `buf` from the network: one disk write (and one worker round trip) per chunk, not per TLS
  // record or TCP read. Progress is counted as bytes arrive, for the stall watchdog; with a
  // bandwidth limit each read is paced (the buffer is then about 1/16 s worth).
  auto fill = [&](char* buf) -> Task<std::tuple<std::error_code, std::size_t>> {
    std::size_t got = 0;
    while (got < chunk) {
      auto [ec, n] = co_await data.read_some(asio::buffer(buf + got, chunk - got));
      got += n;
      progress.bytes += n;
      if (ec) co_return std::tuple{ec, got};
      if (opts.throttle.active()) co_await pace(opts.throttle, n);
    }
    co_return std::tuple{std::error_code{}, got};
  };
  for (;;) {
    auto [rec, n, wec] = co_await (fill(current.get()) && write_piece(pending));
    if (wec) co_return local_failure(wec, progress.bytes);
    std::string_view piece(current.get(), n);
    if (opts.ascii) {
      protocol::from_network_ascii(piece, converted, pending_cr);
      piece = converted;
    }
    const bool eof = rec == asio::error::eof || rec == asio::ssl::error::stream_truncated;
    if (rec && !eof) co_return TransferOutcome{TransferStatus::kNetworkError, rec, progress.bytes};
    if (eof) {
      last.file_pos = file_pos;
      if (opts.ascii) {
        std::string tail;
        protocol::finish_from_network_ascii(tail, pending_cr);
        converted += tail;
        last.text = std::move(converted);
        last.bytes = last.text;
      } else {
        last.raw = std::move(current);
        last.bytes = std::string_view(last.raw.get(), n);
      }
      co_return TransferOutcome{TransferStatus::kOk, {}, progress.bytes};
    }
    if (!previous) previous = std::make_unique_for_overwrite<char[]>(chunk);
    std::swap(current, previous);
    converted.swap(previous_converted);
    pending = opts.ascii ? std::string_view(previous_converted) : std::string_view(previous.get(), n);
  }
}

}  // namespace

std::size_t Throttle::chunk(std::size_t max) const noexcept {
  std::uint64_t rate = 0;
  if (shared && shared_rate) rate = shared_rate;
  if (own && own_rate) rate = rate == 0 ? own_rate : std::min(rate, own_rate);
  if (rate == 0) return max;
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(rate / 16, 4096, max));
}

Task<TransferOutcome> send_file(tls::Stream& data, int fd, TransferOptions opts, runtime::BlockingPool& pool,
                                TransferProgress& progress) {
  if (!data.secure() && !opts.ascii)
    co_return co_await sendfile_loop(data, fd, opts.offset, opts.throttle, progress);
  co_return co_await buffered_send_loop(data, fd, opts, pool, progress);
}

Task<TransferOutcome> receive_file(tls::Stream& data, int fd, TransferOptions opts,
                                   runtime::BlockingPool& pool, TransferProgress& progress,
                                   const std::function<std::error_code()>& finish,
                                   const std::function<void()>& received) {
  LastPiece last;
  auto outcome = co_await receive_loop(data, fd, opts, pool, progress, last);
  if (received) received();
  if (outcome.status != TransferStatus::kOk) co_return outcome;
  // The last piece and what completes the upload in one worker hop (for a small file, the whole
  // upload's disk work but the open); after `received`, outside the stall timer, like a flush after
  // the transfer.
  auto ec = co_await pool.run([&]() -> std::error_code {
    if (!last.bytes.empty()) {
      if (auto w = sys::pwrite_all(fd, last.bytes.data(), last.bytes.size(), last.file_pos); !w)
        return w.error();
    }
    return finish ? finish() : std::error_code{};
  });
  if (ec) co_return local_failure(ec, outcome.bytes);
  co_return outcome;
}

Task<TransferOutcome> send_bytes(tls::Stream& data, std::string bytes, TransferProgress& progress) {
  // A listing leaves in pieces of up to kChunk (not one write(2) per TLS record), its end along with
  // the close_notify that follows.
  if (data.secure()) data.batch_writes(batch_buffer(std::min(bytes.size(), kChunk)));
  auto [ec, n] = co_await data.write_all(asio::buffer(bytes), false);
  progress.bytes += n;
  co_return TransferOutcome{ec ? TransferStatus::kNetworkError : TransferStatus::kOk, ec, progress.bytes};
}

}  // namespace ftpsd::session
