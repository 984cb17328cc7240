#include "tls/closure.hpp"

#include "runtime/timeout.hpp"

namespace ftpsd::tls {
namespace {

Task<void> close_in_background(std::shared_ptr<Stream> stream, Duration bound,
                               std::function<void()> unanswered) {
  if (!co_await finish_close(*stream, bound) && unanswered) unanswered();
}

}  // namespace

Task<bool> finish_close(Stream& stream, Duration bound) {
  stream.end_writes();
  bool answered = stream.peer_closed();
  // Any end counts as an answer: the close_notify, the end of the stream, a reset, a cancellation.
  if (!answered) answered = (co_await runtime::with_timeout(stream.await_peer_close(), bound)).has_value();
  stream.drain();
  stream.close();
  co_return answered;
}

Closing Closing::start(Stream stream, Duration bound, std::function<void()> unanswered) {
  auto shared = std::make_shared<Stream>(std::move(stream));
  const auto executor = shared->socket().get_executor();
  Closing handle{std::weak_ptr<Stream>(shared)};
  asio::co_spawn(executor, close_in_background(std::move(shared), bound, std::move(unanswered)),
                 asio::detached);
  return handle;
}

void Closing::end_now() noexcept {
  if (auto stream = stream_.lock()) {
    std::error_code ignored;
    stream->socket().cancel(ignored);  // the wait ends with operation_aborted: read, then close
  }
  stream_.reset();
}

}  // namespace ftpsd::tls
