#include "session/transfer_slot.hpp"

namespace ftpsd::session {

// What lives exactly as long as the transfer holds its data connection: the connection and, once bytes
// move, the stall timer. Shared with the timer's callback, which may run after the slot has moved on.
struct TransferSlot::Running : std::enable_shared_from_this<Running> {
  Running(const asio::any_io_executor& executor, tls::Stream& data, bool& stalled_flag)
      : stream(&data), timer(executor), stalled(&stalled_flag) {}

  // Every `limit`: if no byte has moved since the last look, the connection is closed.
  void watch(std::shared_ptr<const TransferProgress> counted, Duration limit) {
    progress = std::move(counted);
    stall_limit = limit;
    last = progress->bytes.load(std::memory_order_relaxed);
    arm();
  }
  void arm() {
    timer.expires_after(stall_limit);
    timer.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec || self->stream == nullptr) return;  // the transfer is done with its connection
      const std::uint64_t now = self->progress->bytes.load(std::memory_order_relaxed);
      if (now == self->last) {
        *self->stalled = true;
        self->stream->close();
        return;
      }
      self->last = now;
      self->arm();
    });
  }
  // Asio's steady_timer::cancel() reports a failure by exception, and cancelling a timer's waits does
  // not fail: hence the NOLINTs for bugprone-exception-escape here and in TransferSlot.
  void detach() noexcept {  // NOLINT(bugprone-exception-escape)
    stream = nullptr;
    timer.cancel();
  }

  tls::Stream* stream;
  std::shared_ptr<const TransferProgress> progress;  // what the stall timer looks at
  Duration stall_limit{};
  std::uint64_t last = 0;
  asio::steady_timer timer;
  bool* stalled;  // the slot's flag; valid while `stream` is set (the slot outlives its transfers)
};

TransferSlot::TransferSlot(const asio::any_io_executor& executor, std::function<void()> abort_pending)
    : executor_(executor), abort_pending_(std::move(abort_pending)), changed_(executor) {
  changed_.expires_at(asio::steady_timer::time_point::max());
}

TransferSlot::~TransferSlot() {  // NOLINT(bugprone-exception-escape): see Running::detach
  if (running_) running_->detach();
}

void TransferSlot::begin(Task<void> task) {
  active_ = true;
  replied_ = false;
  stalled_ = false;
  aborted_.store(false, std::memory_order_release);
  asio::co_spawn(executor_, run(std::move(task)), asio::detached);
}

Task<void> TransferSlot::run(Task<void> task) {
  co_await std::move(task);
  stop();
  progress_.reset();
  active_ = false;
  changed_.cancel();  // wakes wait() and wait_reply()
}

void TransferSlot::replied_first() {
  replied_ = true;
  changed_.cancel();
}

void TransferSlot::connected(tls::Stream& data) {
  stop();
  running_ = std::make_shared<Running>(executor_, data, stalled_);
  // An ABOR that came while the connection opened (during the 150, say) ends it here.
  if (aborted()) data.close();
}

TransferProgress& TransferSlot::start(std::string description, std::uint64_t total, Duration stall_timeout) {
  progress_ = std::make_shared<TransferProgress>();
  progress_->description = std::move(description);
  progress_->total.store(total, std::memory_order_relaxed);
  if (running_) running_->watch(progress_, stall_timeout);
  return *progress_;
}

void TransferSlot::stop() noexcept {  // NOLINT(bugprone-exception-escape): see Running::detach
  if (!running_) return;
  running_->detach();
  running_.reset();
}

void TransferSlot::abort() noexcept {
  if (!active_) return;
  aborted_.store(true, std::memory_order_release);
  if (abort_pending_) abort_pending_();
  if (running_ && running_->stream != nullptr) running_->stream->close();
}

Task<void> TransferSlot::wait() {
  while (active_) co_await changed_.async_wait(kTuple);
}

Task<void> TransferSlot::wait_reply() {
  while (active_ && !replied_) co_await changed_.async_wait(kTuple);
}

}  // namespace ftpsd::session
