#pragma once
// Worker threads for work that may block: file-system calls and password hashing. A coroutine awaits
// `run(f)` and resumes on its own event loop afterwards; the loop is never blocked.
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

#include "runtime/asio.hpp"

namespace ftpsd::runtime {

// A result computed on the blocking pool while the coroutine that started it goes on (BlockingPool::
// start); get() awaits it. Everything but the value is touched on the starting coroutine's executor
// only (one thread per io_context), so no lock is needed.
template <class R>
class Pending {
 public:
  explicit Pending(const asio::any_io_executor& executor)
      : ready_(executor, asio::steady_timer::time_point::max()) {}

  // Once. The value, or the exception the work threw.
  Task<R> get() {
    while (!done_) co_await ready_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    if (error_) std::rethrow_exception(error_);
    co_return std::move(*value_);
  }

 private:
  friend class BlockingPool;
  std::optional<R> value_;    // written by the worker before done_ is set on the executor
  std::exception_ptr error_;  // likewise
  bool done_ = false;         // the executor's thread only
  asio::steady_timer ready_;  // cancelled when done_ is set
};

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads), threads_(threads) {}
  ~BlockingPool() {
    pool_.stop();
    pool_.join();
  }

  // `f` runs on a worker. References to the caller's locals are fine: its frame is suspended until
  // `f` has returned.
  [[nodiscard]] std::size_t threads() const noexcept { return threads_; }

  // Runs `f` on a worker and returns at once; the caller awaits get() later. `f` must own what it
  // uses: the caller may be gone before it ends. The last reference to the Pending is always dropped
  // on the caller's executor.
  template <class F>
  Task<std::shared_ptr<Pending<std::invoke_result_t<F&>>>> start(F f) {
    using R = std::invoke_result_t<F&>;
    auto pending = std::make_shared<Pending<R>>(co_await asio::this_coro::executor);
    asio::post(pool_, [p = pending, f = std::move(f)]() mutable {
      try {
        p->value_.emplace(f());
      } catch (...) {
        p->error_ = std::current_exception();
      }
      const auto executor = p->ready_.get_executor();
      asio::post(executor, [p = std::move(p)] {
        p->done_ = true;
        p->ready_.cancel();
      });
    });
    co_return pending;
  }

  // Runs `f` on a worker, detached: `f` must own what it uses and never throw.
  template <class F>
  void post(F f) {
    asio::post(pool_, std::move(f));
  }

  template <class F>
  Task<std::invoke_result_t<F&>> run(F f) {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      co_await asio::co_spawn(
          pool_,
          [&f]() -> Task<void> {
            f();
            co_return;
          },
          asio::use_awaitable);
    } else {
      // The result travels through a local: co_spawn needs default-constructible results, ours aren't.
      std::optional<R> result;
      co_await asio::co_spawn(
          pool_,
          [&]() -> Task<void> {
            result.emplace(f());
            co_return;
          },
          asio::use_awaitable);
      co_return std::move(*result);
    }
  }

 private:
  asio::thread_pool pool_;
  std::size_t threads_;
};

}  // namespace ftpsd::runtime
