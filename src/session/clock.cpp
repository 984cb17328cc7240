#include "session/clock.hpp"

namespace ftpsd::session {
namespace {

class SteadyClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
  void wait_until(asio::steady_timer& timer, time_point at, std::shared_ptr<Alarm> alarm) override {
    timer.expires_at(at);  // cancels the previous wait, whose callback then does nothing
    timer.async_wait([a = std::move(alarm)](std::error_code ec) {
      if (!ec) a->ring();
    });
  }
  // NOLINTNEXTLINE(bugprone-exception-escape): cancelling an Asio timer does not fail
  void cancel(asio::steady_timer& timer) noexcept override { timer.cancel(); }
};

}  // namespace

Clock& Clock::steady() noexcept {
  static SteadyClock clock;
  return clock;
}

}  // namespace ftpsd::session
