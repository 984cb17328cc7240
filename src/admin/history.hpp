#pragma once
// The dashboard's last hour: one sample of the server's counters every kInterval (taken by the
// Manager's own thread, never an FTP event loop), at most kKept of them. Thread-safe.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

#include "session/services.hpp"

namespace ftpsd::admin {

struct Sample {
  std::chrono::system_clock::time_point time;
  std::uint64_t sessions = 0;
  std::uint64_t transfers = 0;       // running now
  std::uint64_t bytes_sent = 0;      // since the start: finished transfers plus what running ones moved
  std::uint64_t bytes_received = 0;  // the same, uploads
};

// The server's counters now (the registry's live transfers, every domain's finished bytes).
[[nodiscard]] Sample sample(const session::Services& services);

class History {
 public:
  static constexpr std::chrono::seconds kInterval{10};
  static constexpr std::size_t kKept = 360;  // an hour

  void add(const Sample& s);
  // {"interval_seconds": 10, "samples": [{"time", "sessions", "transfers", "sent_per_second",
  // "received_per_second"}, ...] oldest first, "now": the same for `now` against the last sample}.
  // A rate is over the time since the sample before (0 for the first; counters that went down, e.g.
  // a transfer ended and its bytes moved to the finished count a moment late, count as 0).
  [[nodiscard]] nlohmann::json to_json(const Sample& now) const;

 private:
  mutable std::mutex mutex_;
  std::deque<Sample> samples_;
};

}  // namespace ftpsd::admin
