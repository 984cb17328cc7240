#include "session/control_channel.hpp"

#include "protocol/telnet.hpp"
#include "util/limits.hpp"

namespace ftpsd::session {

ControlChannel::ControlChannel(ControlTransport& transport, const Clock& clock)
    : transport_(transport), clock_(clock), write_done_(transport.executor()) {
  // Never expires: waiters are woken by cancel() when a write ends.
  write_done_.expires_at(asio::steady_timer::time_point::max());
}

void ControlChannel::discard_buffered_input() noexcept {
  std::string().swap(in_);  // frees the buffer: an idle session holds none
  pos_ = 0;
}

std::optional<std::string> ControlChannel::take_line() {
  const auto nl = in_.find('\n', pos_);
  if (nl == std::string::npos) {
    // Drop what we have and keep skipping to '\n'. (+1: the CR of a line of the maximum length may
    // arrive before its LF.)
    if (in_.size() - pos_ > limits::kMaxCommandLine + 1) {
      discarding_ = true;
      discard_buffered_input();
    }
    return std::nullopt;
  }
  std::string_view raw(in_.data() + pos_, nl - pos_);
  pos_ = nl + 1;
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  std::string line = protocol::strip_telnet(raw);
  if (pos_ == in_.size()) discard_buffered_input();
  return line;
}

Task<Result<std::string, LineError>> ControlChannel::read_line() {
  for (;;) {
    if (auto line = take_line()) {
      if (std::exchange(discarding_, false) || line->size() > limits::kMaxCommandLine)
        co_return Unexpected{LineError::kTooLong};
      co_return std::move(*line);
    }
    // An idle session holds no buffer: wait until the socket (or OpenSSL) has bytes, then read in
    // small steps into a string grown on demand and freed again once every line is taken.
    if (in_.empty() && !transport_.has_pending() && !readable_) {
      if (auto ec = co_await transport_.wait_readable()) co_return Unexpected{LineError::kClosed};
    }
    readable_ = false;
    constexpr std::size_t kChunk = 1024;
    in_.erase(0, std::exchange(pos_, 0));  // a client that pipelines never lets the buffer grow
    const auto old = in_.size();
    in_.resize(old + kChunk);
    auto [ec, n] = co_await transport_.read_some(asio::buffer(in_.data() + old, kChunk));
    in_.resize(old + n);
    if (ec || n == 0) co_return Unexpected{LineError::kClosed};
  }
}

// Asio's steady_timer::cancel() reports a failure by exception; cancelling a timer's waits does not fail.
void ControlChannel::abandon() noexcept {  // NOLINT(bugprone-exception-escape)
  abandoned_ = true;
  transport_.cancel();
  write_done_.cancel();
}

Task<std::error_code> ControlChannel::send(const protocol::Reply& reply) {
  const std::string bytes = protocol::serialize(reply);
  while (writing_ && !abandoned_) co_await write_done_.async_wait(kTuple);
  if (abandoned_) co_return make_error_code(asio::error::broken_pipe);
  writing_ = true;
  write_started_ = clock_.now();
  auto [ec, n] = co_await transport_.write_all(asio::buffer(bytes));
  writing_ = false;
  write_done_.cancel();
  co_return ec;
}

}  // namespace ftpsd::session
