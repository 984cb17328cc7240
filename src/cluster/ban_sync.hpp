#pragma once
// [cluster]: the bans shared by the nodes (README "Shared bans"), in the bans table of the database.
//
// One thread with a connection of its own. Push: the bans made and lifted on this node (net::Bans
// hands them over as a net::BanSink) wait in a bounded queue, one change per network (the newest
// wins), and the thread writes them at once. Pull: at most once a second it reads the bans in force,
// with the time left computed by the database (the nodes' clocks do not matter), and hands them to
// net::Bans as its shared list.
//
// While the database is unreachable the queue keeps what is made and lifted here (local bans apply on
// this node meanwhile); the thread tries a new connection once a second and writes the queue when it
// is back. Each change between reachable and unreachable is logged once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cluster/pg.hpp"
#include "net/bans.hpp"

namespace ftpsd::cluster {

class BanSync final : public net::BanSink {
 public:
  // Changes waiting to be written, at most (distinct networks); more are not shared (logged once).
  static constexpr std::size_t kMaxQueued = 10000;

  BanSync(config::ClusterConfig cluster, std::string password, net::Bans& bans);
  BanSync(const BanSync&) = delete;
  BanSync& operator=(const BanSync&) = delete;
  BanSync(BanSync&&) = delete;
  BanSync& operator=(BanSync&&) = delete;
  ~BanSync() override;  // stop()

  // Reads the bans in force (if the database is there), then starts the thread.
  void start();
  // Writes what waits if the database is there, and ends the thread; the wait is bounded by libpq's
  // connect timeout. Idempotent.
  void stop();

  void made(const inet::IpNetwork& network, Clock::time_point until, const std::string& reason,
            bool automatic) override;
  void lifted(const inet::IpNetwork& network) override;

 private:
  struct Change {
    bool lift = false;
    Clock::time_point until{};
    std::string reason;
    bool automatic = false;
  };
  void queue(const std::string& network, Change change);
  void run();
  void cycle();    // one round: connect if needed, write the queue, read the bans when due
  bool connect();  // false: still unreachable (logged)
  bool flush();    // false: the connection was lost (logged)
  void pull();     // reads the bans in force into net::Bans
  void went_down(const std::string& why);
  void came_up();
  // The write of one change; an error that is not a lost connection is logged and the change dropped.
  Result<bool, DbError> write(const std::string& network, const Change& change);

  config::ClusterConfig cluster_;
  std::string password_;
  net::Bans& bans_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Change> queue_;  // under mutex_; by network
  bool stopping_ = false;                // under mutex_
  bool full_logged_ = false;             // under mutex_
  std::atomic<bool> up_{false};
  std::thread thread_;

  // The thread's own.
  enum class State : std::uint8_t { kUnknown, kUp, kDown };
  std::optional<Connection> db_;
  State state_ = State::kUnknown;
  Clock::time_point last_attempt_{};
  Clock::time_point last_pull_{};
  Clock::time_point last_purge_{};
  bool pull_failing_ = false;
};

}  // namespace ftpsd::cluster
