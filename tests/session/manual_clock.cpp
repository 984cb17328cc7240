#include "manual_clock.hpp"

#include <algorithm>

namespace ftpsd::test {

void ManualClock::wait_until(asio::steady_timer& timer, time_point at, std::shared_ptr<Alarm> alarm) {
  cancel(timer);
  deadlines_.push_back({&timer, at, std::move(alarm)});
}

void ManualClock::cancel(asio::steady_timer& timer) noexcept {
  std::erase_if(deadlines_, [&](const Deadline& d) { return d.timer == &timer; });
}

std::optional<ManualClock::time_point> ManualClock::next_deadline() const {
  std::optional<time_point> next;
  for (const auto& d : deadlines_)
    if (!next || d.at < *next) next = d.at;
  return next;
}

void ManualClock::set(time_point t) {
  now_ = std::max(now_, t);
  std::vector<Deadline> due;
  for (auto it = deadlines_.begin(); it != deadlines_.end();) {
    if (it->at <= now_) {
      due.push_back(std::move(*it));
      it = deadlines_.erase(it);
    } else {
      ++it;
    }
  }
  std::stable_sort(due.begin(), due.end(), [](const Deadline& a, const Deadline& b) { return a.at < b.at; });
  for (auto& d : due) asio::post(d.timer->get_executor(), [alarm = std::move(d.alarm)] { alarm->ring(); });
}

}  // namespace ftpsd::test
