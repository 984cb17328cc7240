#include "cluster/pg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <utility>

namespace ftpsd::cluster {

std::string one_line(std::string_view message) {
  std::string out;
  for (const char c : message) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::size_t Rows::affected() const {
  const std::string_view text = PQcmdTuples(result_.get());
  std::size_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

Result<std::string, std::string> cluster_password(const config::ClusterConfig& cluster) {
  if (cluster.password_file.empty()) return std::string();
  std::ifstream in(cluster.password_file);
  std::string line;
  if (!in || !std::getline(in, line))
    return Unexpected{fmt::format("cannot read cluster.password_file {}", cluster.password_file.string())};
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<Connection, DbError> Connection::open(const config::ClusterConfig& cluster,
                                             const std::string& password) {
  // With expand_dbname, the keywords before "dbname" are defaults the connection string overrides,
  // and those after it override the connection string.
  const std::string application = "ftpsd " + cluster.node;
  const std::array<std::pair<const char*, const char*>, 8> settings{{
      {"connect_timeout", "5"},
      {"application_name", application.c_str()},
      {"options", "-c statement_timeout=15s"},
      {"keepalives_idle", "5"},
      {"keepalives_interval", "2"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "10000"},  // ms
      {"dbname", cluster.database.c_str()},
  }};
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [key, value] : settings) {
    keys.push_back(key);
    values.push_back(value);
  }
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Connection c(PQconnectdbParams(keys.data(), values.data(), 1));
  if (!c.conn_) return Unexpected{DbError{"out of memory", true}};
  if (PQstatus(c.conn_.get()) != CONNECTION_OK)
    return Unexpected{DbError{one_line(PQerrorMessage(c.conn_.get())), true}};
  // The server's notices ("relation ... already exists, skipping") are no news to anyone: libpq would
  // print them on stderr.
  PQsetNoticeProcessor(
      c.conn_.get(), [](void*, const char*) {}, nullptr);
  return c;
}

bool Connection::ok() const {
  return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

Result<Rows, DbError> Connection::exec(std::string_view sql,
                                       const std::vector<std::optional<std::string>>& params) {
  if (!conn_) return Unexpected{DbError{"not connected", true}};
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const std::string statement(sql);
  PGresult* result = PQexecParams(conn_.get(), statement.c_str(), static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  Rows rows(result);  // owns it from here
  const auto status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return rows;
  const bool lost = PQstatus(conn_.get()) != CONNECTION_OK;
  const char* message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get());
  std::string text = one_line(message != nullptr ? message : "");
  if (text.empty()) text = one_line(PQerrorMessage(conn_.get()));
  return Unexpected{DbError{std::move(text), lost}};
}

int Connection::socket() const {
  return conn_ ? PQsocket(conn_.get()) : -1;
}

Result<std::vector<std::string>, DbError> Connection::notifications() {
  if (!conn_ || PQconsumeInput(conn_.get()) == 0)
    return Unexpected{DbError{conn_ ? one_line(PQerrorMessage(conn_.get())) : "not connected", true}};
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

}  // namespace ftpsd::cluster
