#include "admin/history.hpp"

#include "admin/http.hpp"

namespace ftpsd::admin {
namespace {

double per_second(std::uint64_t from, std::uint64_t to, std::chrono::duration<double> elapsed) {
  if (to <= from || elapsed.count() <= 0) return 0;
  return static_cast<double>(to - from) / elapsed.count();
}

json entry(const Sample& s, const Sample* before) {
  double sent = 0;
  double received = 0;
  if (before != nullptr) {
    const std::chrono::duration<double> elapsed = s.time - before->time;
    sent = per_second(before->bytes_sent, s.bytes_sent, elapsed);
    received = per_second(before->bytes_received, s.bytes_received, elapsed);
  }
  return json{{"time", utc(s.time)},
              {"sessions", s.sessions},
              {"transfers", s.transfers},
              {"sent_per_second", sent},
              {"received_per_second", received}};
}

}  // namespace

Sample sample(const session::Services& services) {
  Sample s{.time = std::chrono::system_clock::now()};
  for (const auto& [name, state] : services.domain_states()) {
    s.bytes_sent += state->bytes_sent.load(std::memory_order_relaxed);
    s.bytes_received += state->bytes_received.load(std::memory_order_relaxed);
  }
  for (const auto& view : services.registry.list()) {
    ++s.sessions;
    if (!view.transfer) continue;
    ++s.transfers;
    // As the finished count: file transfers only, not listings.
    const auto& command = view.transfer->command;
    if (command == "RETR") s.bytes_sent += view.transfer->bytes;
    if (command == "STOR" || command == "APPE" || command == "STOU") s.bytes_received += view.transfer->bytes;
  }
  return s;
}

void History::add(const Sample& s) {
  const std::lock_guard lock(mutex_);
  samples_.push_back(s);
  while (samples_.size() > kKept) samples_.pop_front();
}

json History::to_json(const Sample& now) const {
  const std::lock_guard lock(mutex_);
  json list = json::array();
  const Sample* before = nullptr;
  for (const auto& s : samples_) {
    list.push_back(entry(s, before));
    before = &s;
  }
  return json{{"interval_seconds", kInterval.count()}, {"samples", list}, {"now", entry(now, before)}};
}

}  // namespace ftpsd::admin
