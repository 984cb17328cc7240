#pragma once
// Worker threads for work that may block: file-system calls and password hashing. A coroutine awaits
// `run(f)` and resumes on its own event loop afterwards; the loop is never blocked.
#include <optional>
#include <type_traits>

#include "runtime/asio.hpp"

namespace ftpsd::runtime {

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  ~BlockingPool() {
    pool_.stop();
    pool_.join();
  }

  // `f` runs on a worker. References to the caller's locals are fine: its frame is suspended until
  // `f` has returned.
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
};

}  // namespace ftpsd::runtime
