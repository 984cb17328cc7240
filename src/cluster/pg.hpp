#pragma once
// A connection to the cluster's PostgreSQL database, on libpq (Debian's libpq-dev).
//
// Why libpq and not libpqxx: libpq is the C library every PostgreSQL client is built on, packaged in
// every Debian release with a stable ABI, and the few statements ftpsd needs (parameterised queries,
// transactions) take a thin RAII layer of our own; libpqxx would add a second library (and its ABI
// changes between Debian releases) for the same calls, and its exceptions would have to be turned
// back into values at this boundary anyway.
//
// Every call blocks (a network round trip): use it on the blocking pool or in a command-line tool,
// never on an event loop. A Connection is not thread-safe: one thread at a time.
#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ftpsd::cluster {

// The rows of a statement that succeeded. Values are text (PostgreSQL's text format).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}
  [[nodiscard]] int count() const { return PQntuples(result_.get()); }
  [[nodiscard]] bool is_null(int row, int column) const {
    return PQgetisnull(result_.get(), row, column) != 0;
  }
  [[nodiscard]] std::string text(int row, int column) const { return PQgetvalue(result_.get(), row, column); }
  // The number of rows an INSERT, UPDATE or DELETE touched.
  [[nodiscard]] std::size_t affected() const;

 private:
  struct Clear {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// What went wrong, for the log or the operator; `connection_lost`: the server cannot be reached (as
// opposed to a statement it refused), so a new connection may help.
struct DbError {
  std::string message;
  bool connection_lost = false;
};

class Connection {
 public:
  // Connects with [cluster] database, `password` if not empty (cluster_password()), and unless the
  // connection string sets them: a connect timeout of 5 s, a statement timeout of 15 s, and TCP
  // keepalives and a TCP user timeout that notice within about 10 s a database that vanished without
  // closing the connection (a cut network), so that no thread of the node waits on it for long.
  [[nodiscard]] static Result<Connection, DbError> open(const config::ClusterConfig& cluster,
                                                        const std::string& password);

  // One statement with $1, $2... bound to `params` (text; nullopt: NULL).
  [[nodiscard]] Result<Rows, DbError> exec(std::string_view sql,
                                           const std::vector<std::optional<std::string>>& params = {});
  [[nodiscard]] bool ok() const;

  // LISTEN/NOTIFY: the connection's socket, readable when the server sent something (a notification of
  // a channel this connection LISTENs to); -1 when not connected.
  [[nodiscard]] int socket() const;
  // Reads what the server sent without waiting, and returns the payloads of the notifications received
  // since the last call, oldest first. Error: the connection is lost.
  [[nodiscard]] Result<std::vector<std::string>, DbError> notifications();

 private:
  struct Finish {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
  };
  explicit Connection(PGconn* c) : conn_(c) {}
  std::unique_ptr<PGconn, Finish> conn_;
};

// The first line of cluster.password_file; "" when none is set (libpq then looks in PGPASSFILE or
// ~/.pgpass itself). Read once at start: the server may no longer read the file once it runs as
// server.user. Error: a message naming the file.
[[nodiscard]] Result<std::string, std::string> cluster_password(const config::ClusterConfig& cluster);

// libpq's messages on one line (they end in newlines and may span several).
[[nodiscard]] std::string one_line(std::string_view message);

}  // namespace ftpsd::cluster
