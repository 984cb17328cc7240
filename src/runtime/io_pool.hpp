#pragma once
// One io_context per event-loop thread. A session lives on one of them for its whole life (no strand
// is needed: each context is run by exactly one thread); new sessions are spread round-robin.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/asio.hpp"

namespace ftpsd::runtime {

class IoPool {
 public:
  explicit IoPool(std::size_t threads);
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;
  ~IoPool();

  asio::io_context& next() noexcept;
  asio::io_context& first() noexcept { return *contexts_.front(); }
  [[nodiscard]] std::size_t size() const noexcept { return contexts_.size(); }
  asio::io_context& at(std::size_t i) noexcept { return *contexts_[i]; }
  void start();  // runs every context on its own thread
  void stop();   // stops the contexts (pending work is dropped)
  void join();

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace ftpsd::runtime
