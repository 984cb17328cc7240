#pragma once
// The Prometheus endpoint (metrics.address): prometheus-cpp's Exposer (its own HTTP threads, never
// the event loops) serving GET /metrics in the text format. What it serves is read at scrape time
// from obs::metrics(), the Services counters and the current passive port pool.
#include <memory>
#include <string>

#include "session/services.hpp"
#include "util/result.hpp"

namespace ftpsd::app {

class MetricsEndpoint {
 public:
  // Binds `address` ("ip:port"; port 0 picks a free one). Error: the address cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<MetricsEndpoint>, std::string> start(
      const std::string& address, const session::Services& services);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // "http://127.0.0.1:9120/metrics", with the port actually bound.
  [[nodiscard]] const std::string& url() const noexcept { return url_; }

 private:
  MetricsEndpoint() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_;
};

}  // namespace ftpsd::app
