#pragma once
// [cluster]: the settings the nodes share (README "Shared settings"), table shared_passive: per domain,
// the shared keys of its passive settings (address, overrides), a revision, the node that wrote them.
//
// The node-local keys (the listeners, passive.ports and passive.advertised_ports: this node's slice of
// the firewall) stay in each node's own file. The shared values lie over the file's: apply() is called
// after the file is loaded, at start and at every reload (SIGHUP, the Manager's), with the values last
// read, so a reload while the database is away keeps them.
//
// A thread of its own reads the table once a second; when a revision changed it calls `changed` (the
// server reloads its configuration). The Manager's calls (read(), write()) block on a connection of
// their own: an HTTP thread's.
#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "cluster/pg.hpp"

namespace ftpsd::cluster {

// One domain's shared passive settings: an object with "address" (a string) and "overrides"
// ([{"networks": [...], "address": ...}]), each only when shared; null: none (the control connection's
// address, no overrides) whatever the file says.
struct SharedRow {
  std::int64_t revision = 0;  // 0: no row (nothing shared)
  nlohmann::json settings = nlohmann::json::object();
  std::string node;  // the node that wrote the revision
};
using SharedValues = std::map<std::string, SharedRow, std::less<>>;  // by domain name

// The request fields that are shared, and the passive key each stands for.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kSharedPassive{
    {{"address", "address"}, {"overrides", "address_overrides"}}};

// Lays the shared values over `config` (loaded from a node's file). A value of the default domain also
// applies to each domain that inherits it (its section does not write the key). A value that cannot be
// read (written by hand into the table?) is skipped, and said in `problems`.
void apply_shared(config::Config& config, const SharedValues& values,
                  std::vector<std::string>* problems = nullptr);

enum class WriteRefusal : std::uint8_t {
  kConflict,     // another node wrote the domain's settings since the revision read
  kUnreachable,  // the database could not be reached or refused the statement
};
struct WriteError {
  WriteRefusal refusal;
  std::string message;
};

class SharedSettings {
 public:
  static constexpr auto kPollEvery = std::chrono::seconds(1);

  SharedSettings(config::ClusterConfig cluster, std::string password);
  SharedSettings(const SharedSettings&) = delete;
  SharedSettings& operator=(const SharedSettings&) = delete;
  SharedSettings(SharedSettings&&) = delete;
  SharedSettings& operator=(SharedSettings&&) = delete;
  ~SharedSettings();  // stop()

  // Reads the table once (at start, before the configuration is used). false: unreachable (logged);
  // the file's values apply until the thread reads the table.
  bool load();
  // Starts the thread; `changed` runs on it when a domain's revision changed.
  void start(std::function<void()> changed);
  void stop();

  // The values last read (or written here).
  [[nodiscard]] SharedValues values() const;
  [[nodiscard]] SharedRow known(std::string_view domain) const;
  // apply_shared() with values(); problems are logged once per revision.
  void apply(config::Config& config) const;

  // The Manager's: the domain's row as the database has it now. Error: unreachable (the message).
  [[nodiscard]] Result<SharedRow, std::string> read(const std::string& domain);
  // Writes `settings` for `domain` if its revision is still `revision` (0: no row yet), and keeps the
  // new row as known. The new row, or why not.
  [[nodiscard]] Result<SharedRow, WriteError> write(const std::string& domain, const nlohmann::json& settings,
                                                    std::int64_t revision);

  [[nodiscard]] const std::string& node() const { return cluster_.node; }

 private:
  void run();
  bool poll(Connection& db);  // false: the connection was lost
  // Replaces the known rows; true: a revision differs from before.
  bool replace(SharedValues rows);

  config::ClusterConfig cluster_;
  std::string password_;

  mutable std::mutex mutex_;
  SharedValues values_;                         // under mutex_
  mutable std::int64_t logged_revisions_ = -1;  // under mutex_: problems of this sum logged

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::function<void()> changed_;
  std::optional<Connection> poll_db_;  // the thread's
  bool down_logged_ = false;           // the thread's

  std::mutex query_mutex_;  // the Manager's connection
  std::optional<Connection> query_db_;
};

}  // namespace ftpsd::cluster
