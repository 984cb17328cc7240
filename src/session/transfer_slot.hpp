#pragma once
// The one transfer a session runs beside its control loop (RETR, STOR, LIST, ...): whether it runs,
// whether its first reply has gone, whether it was aborted or stalled, its data connection, its
// progress and its task. Only the slot changes them: the dispatcher begins a transfer, the transfer
// reports its first reply, its data connection and when bytes move; ABOR, the watchdog, the
// administrator (SessionRegistry::end) and the end of the session abort it; STAT and the session
// registry read its progress.
//
// Used on the session's event loop only, but for aborted(), which an upload's commit reads on the
// worker pool.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "runtime/asio.hpp"
#include "session/transfer.hpp"
#include "tls/stream.hpp"
#include "util/duration.hpp"

namespace ftpsd::session {

class TransferSlot {
 public:
  // `abort_pending`: what else an abort stops, such as the pending accept of a passive data connection.
  TransferSlot(const asio::any_io_executor& executor, std::function<void()> abort_pending);
  TransferSlot(const TransferSlot&) = delete;
  TransferSlot& operator=(const TransferSlot&) = delete;
  ~TransferSlot();  // NOLINT(bugprone-exception-escape): Asio's timer cancel() does not fail

  [[nodiscard]] bool active() const noexcept { return active_; }
  // The transfer's first reply (its 150, or its only reply when it was refused) has gone.
  [[nodiscard]] bool replied() const noexcept { return replied_; }
  // ABOR (or the end of the session) stopped it. Also read on the worker pool (an upload's commit).
  [[nodiscard]] bool aborted() const noexcept { return aborted_.load(std::memory_order_acquire); }
  // No byte moved on the data connection for the stall timeout: the slot closed it.
  [[nodiscard]] bool stalled() const noexcept { return stalled_; }
  // The progress of the running transfer, from start() to the end of the transfer; null before.
  // The registry keeps its copy after the transfer has ended.
  [[nodiscard]] std::shared_ptr<const TransferProgress> progress() const noexcept { return progress_; }

  // The dispatcher: runs `task` beside the control loop. The slot is active until the task has ended.
  void begin(Task<void> task);
  // The transfer: its first reply has gone (wakes wait_reply()).
  void replied_first();
  // The transfer: its data connection is open (from its 150 on, through the TLS handshake): abort()
  // closes it. An abort that came before closes it at once.
  void connected(tls::Stream& data);
  // The transfer: bytes start to move on that connection. From now on the transfer counts them in the
  // returned progress, and a stall of `stall_timeout` (no byte moved) closes the connection.
  TransferProgress& start(std::string description, std::uint64_t total, Duration stall_timeout);
  // The transfer: it is done with its data connection (which it closes itself): no stall timer any
  // more, and abort() leaves the connection alone. The progress stays until the transfer ends.
  void stop() noexcept;  // NOLINT(bugprone-exception-escape): Asio's timer cancel() does not fail
  // ABOR, the watchdog, the end of the session: the data connection (or the wait for it) is closed; the
  // transfer then ends with its 426. Nothing when no transfer runs.
  void abort() noexcept;

  // Until the running transfer has ended (at once when none runs).
  Task<void> wait();
  // Until its first reply has gone, or it has ended.
  Task<void> wait_reply();

 private:
  struct Running;
  Task<void> run(Task<void> task);

  asio::any_io_executor executor_;
  std::function<void()> abort_pending_;
  bool active_ = false;
  bool replied_ = false;
  bool stalled_ = false;
  std::atomic<bool> aborted_{false};
  std::shared_ptr<Running> running_;  // while the data connection is open
  std::shared_ptr<TransferProgress> progress_;
  asio::steady_timer changed_;  // never expires: cancelled to wake the waiters
};

}  // namespace ftpsd::session
