#pragma once
// Wakes every session at a graceful stop without a periodic tick: each event loop keeps a list of the
// sessions running on it, and notify() walks each list on its own loop. Registering costs a session
// two pointers, no pending operation.
#include <map>
#include <memory>
#include <utility>

#include "runtime/asio.hpp"

namespace ftpsd::session {

class StopNotice {
 public:
  // What a session registers; on_stop() runs on the loop it registered on.
  class Listener {
   public:
    Listener() = default;
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    virtual void on_stop() = 0;

   protected:
    ~Listener() = default;

   private:
    friend class StopNotice;
    Listener* prev_ = nullptr;
    Listener* next_ = nullptr;
  };

  // Before the loops run: one list for each.
  void add(asio::io_context& ctx) { loops_.emplace(&ctx, std::make_unique<Loop>(ctx.get_executor())); }

  // On the loop `ex` runs on; a loop that was not added (unit tests) never wakes anyone.
  void listen(const asio::any_io_executor& ex, Listener& l) {
    auto it = loops_.find(&asio::query(ex, asio::execution::context));
    if (it == loops_.end()) return;
    Loop& loop = *it->second;
    l.prev_ = nullptr;
    l.next_ = loop.first;
    if (loop.first != nullptr) loop.first->prev_ = &l;
    loop.first = &l;
  }
  // On the same loop as listen(); harmless for a listener that never listened.
  void unlisten(const asio::any_io_executor& ex, Listener& l) {
    auto it = loops_.find(&asio::query(ex, asio::execution::context));
    if (it == loops_.end()) return;
    Loop& loop = *it->second;
    if (l.prev_ != nullptr) l.prev_->next_ = l.next_;
    if (l.next_ != nullptr) l.next_->prev_ = l.prev_;
    if (loop.first == &l) loop.first = l.next_;
    l.prev_ = l.next_ = nullptr;
  }

  // Thread-safe: each list is walked on its own loop.
  void notify() const {
    for (const auto& [ctx, loop] : loops_) {
      asio::post(loop->executor, [l = loop.get()] {
        // on_stop() never ends a session synchronously (it only cancels and re-arms), so the
        // list does not change under the walk; `next` is taken first all the same.
        for (Listener* it = l->first; it != nullptr;) {
          Listener* next = it->next_;
          it->on_stop();
          it = next;
        }
      });
    }
  }

 private:
  struct Loop {
    explicit Loop(asio::io_context::executor_type ex) : executor(std::move(ex)) {}
    asio::io_context::executor_type executor;
    Listener* first = nullptr;
  };
  std::map<asio::execution_context*, std::unique_ptr<Loop>> loops_;
};

}  // namespace ftpsd::session
