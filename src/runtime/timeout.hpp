#pragma once
// Bounds an awaitable by a deadline. The operation should not throw (use kTuple): a thrown error would
// count as "not finished" for the race below and the call would wait for the timer.
#include <optional>

#include "runtime/asio.hpp"
#include "util/duration.hpp"

namespace ftpsd::runtime {

template <class T>
Task<std::optional<T>> with_timeout(Task<T> op, Duration limit) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  // kTuple: a timer cancelled because `op` won completes without throwing (an exception per bounded
  // operation showed up in profiles).
  auto r = co_await (std::move(op) || timer.async_wait(kTuple));
  if (r.index() == 0) co_return std::get<0>(std::move(r));
  co_return std::nullopt;
}

}  // namespace ftpsd::runtime
