#pragma once
// The end of a TLS connection once our close_notify is out (RFC 8446 §6.1: each side sends its
// close_notify before it closes its write side): our side of the TCP stream ends, the peer's
// close_notify (or the end of its stream) is awaited for a short while, and what the peer sent is read
// before the socket closes. Closing with unread bytes would send a RST, and a RST can destroy what the
// peer has not read yet: the end of a download, our close_notify.
#include <chrono>
#include <functional>
#include <memory>

#include "runtime/asio.hpp"
#include "tls/stream.hpp"
#include "util/duration.hpp"

namespace ftpsd::tls {

// How long a connection whose close_notify is out waits for the peer's (or for the end of its stream)
// before it is closed anyway. A client answers at once (it has read our close_notify); one that does
// not answer must not hold anything for long.
inline constexpr Duration kPeerCloseWait = std::chrono::seconds(2);

// Ends `stream` as above, waiting at most `bound`; false if the peer did not answer in time. The
// stream is closed afterwards either way.
Task<bool> finish_close(Stream& stream, Duration bound);

// finish_close in the background, for a data connection whose final reply must not wait for it. The
// handle ends the wait early (what the peer sent is read, then the socket closes) when it is destroyed
// or replaced: a session has at most one such connection, and none once it has ended.
class Closing {
 public:
  Closing() = default;
  Closing(Closing&&) noexcept = default;
  Closing& operator=(Closing&& other) noexcept {
    end_now();
    stream_ = std::move(other.stream_);
    return *this;
  }
  Closing(const Closing&) = delete;
  Closing& operator=(const Closing&) = delete;
  ~Closing() { end_now(); }

  // `unanswered` runs if the peer has not answered within `bound`.
  [[nodiscard]] static Closing start(Stream stream, Duration bound, std::function<void()> unanswered);
  void end_now() noexcept;

 private:
  explicit Closing(std::weak_ptr<Stream> stream) : stream_(std::move(stream)) {}
  std::weak_ptr<Stream> stream_;
};

}  // namespace ftpsd::tls
