#pragma once
// The live sessions, readable from any thread: what the Manager lists (and a cluster publishes), and
// how it ends one. Each session owns its entry (a LiveSession) and writes it from its own event loop;
// readers take a copy (SessionView). Nothing here ever waits for an event loop: reading copies under a
// short lock, and ending a session posts the request to the session's loop.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/asio.hpp"
#include "session/clock.hpp"
#include "session/transfer.hpp"

namespace ftpsd::session {

// A transfer as the session list shows it.
struct TransferView {
  std::string command;  // "RETR", "STOR", "LIST", ...
  std::string path;
  std::uint64_t bytes = 0;  // moved on the data connection so far
  std::uint64_t total = 0;  // expected, 0 when unknown (uploads, listings)
  std::chrono::system_clock::time_point started{};
};

// One session, copied out of the registry.
struct SessionView {
  std::uint64_t id = 0;
  std::string user;      // empty before login
  std::string domain;    // the domain the connection belongs to
  std::string client;    // the real client address (the PROXY header's on a proxied listener)
  std::string listener;  // the address of the listener it came in on
  std::string tls;       // the control connection's TLS version and cipher; empty in clear text
  // Whether the last protected data connection resumed the control connection's TLS session.
  std::optional<bool> data_tls_reused;
  std::chrono::system_clock::time_point started{};
  // Since the client's last command or the end of its last transfer (what server.idle_timeout counts).
  std::chrono::steady_clock::duration idle{};
  std::optional<TransferView> transfer;
};

// What the session tells the registry when it starts.
struct SessionFacts {
  std::uint64_t id = 0;
  std::string client;
  std::string listener;
  std::string domain = "default";
};

// The entry of one session. Written from the session's event loop, read from anywhere.
class LiveSession {
 public:
  // `end` runs on `loop` when someone asks the session to end (SessionRegistry::end). It must cope with
  // a session that has ended meanwhile (typically it holds a weak_ptr). `clock`: the session's time
  // (Services::clock), read from any thread by view(); it outlives the entry.
  LiveSession(SessionFacts facts, asio::any_io_executor loop, std::function<void()> end, const Clock& clock);

  // The session's own loop only (the setters lock briefly; progress is a relaxed atomic).
  void set_user(std::string user);        // empty: logged out
  void set_domain(std::string domain);    // HOST, SNI or user@host chose another one
  void set_tls(std::string description);  // empty: clear text again (CCC)
  void set_data_tls_reused(bool reused);
  void touch() noexcept;  // a command arrived, or a transfer ended: idle restarts
  // `progress` is the transfer's own (TransferSlot): the registry reads its counters, never copies them.
  void transfer_started(std::string command, std::string path,
                        std::shared_ptr<const TransferProgress> progress);
  void transfer_ended();

  // Any thread.
  [[nodiscard]] SessionView view() const;
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  // Posts the end request to the session's loop; returns at once.
  void request_end() const;

 private:
  const std::uint64_t id_;
  const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
  const asio::any_io_executor loop_;
  const std::function<void()> end_;
  const Clock* clock_;
  std::atomic<Clock::duration::rep> last_activity_;  // since the clock's epoch
  mutable std::mutex mutex_;                         // guards what follows
  std::string user_;
  std::string domain_;
  std::string client_;
  std::string listener_;
  std::string tls_;
  std::optional<bool> data_tls_reused_;
  std::optional<TransferView> transfer_;  // its bytes and total come from progress_
  std::shared_ptr<const TransferProgress> progress_;
};

class SessionRegistry {
 public:
  // Removes its session from the registry when it goes (at the end of the session).
  class Registration {
   public:
    Registration() = default;
    Registration(SessionRegistry& registry, std::shared_ptr<LiveSession> entry)
        : registry_(&registry), entry_(std::move(entry)) {}
    Registration(Registration&& other) noexcept
        : registry_(std::exchange(other.registry_, nullptr)), entry_(std::move(other.entry_)) {}
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }

    // Null for a session that is not registered (unit tests of parts of a session).
    [[nodiscard]] LiveSession* operator->() const noexcept { return entry_.get(); }
    [[nodiscard]] LiveSession* get() const noexcept { return entry_.get(); }
    explicit operator bool() const noexcept { return entry_ != nullptr; }
    void reset() noexcept;

   private:
    SessionRegistry* registry_ = nullptr;
    std::shared_ptr<LiveSession> entry_;
  };

  SessionRegistry() = default;
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // A new session (ids are unique: Services::next_session_id); see LiveSession for the arguments.
  [[nodiscard]] Registration add(SessionFacts facts, asio::any_io_executor loop, std::function<void()> end,
                                 const Clock& clock = Clock::steady());

  // Every live session, by id.
  [[nodiscard]] std::vector<SessionView> list() const;
  [[nodiscard]] std::optional<SessionView> find(std::uint64_t id) const;
  [[nodiscard]] std::size_t size() const;
  // Asks a session to end (its client gets 421, a running transfer is aborted). False when there is no
  // such session. Returns at once; the session ends on its own loop.
  bool end(std::uint64_t id) const;

 private:
  void remove(std::uint64_t id) noexcept;

  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<LiveSession>> sessions_;
};

}  // namespace ftpsd::session
