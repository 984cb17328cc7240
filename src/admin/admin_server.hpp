#pragma once
// The Manager's REST API ([admin]): cpp-httplib on threads of its own, never on the FTP event loops.
// What it serves is read from session::Services at request time (the registry of live sessions, the
// current snapshot); ending a session posts the request to the session's own loop.
#include <memory>
#include <string>

#include "admin/api.hpp"
#include "config/config.hpp"
#include "session/services.hpp"
#include "util/result.hpp"

namespace ftpsd::admin {

class AdminServer {
 public:
  // Before the privileges are dropped: reads admin.users_file and, with admin.tls, the [tls] certificate
  // and key, and binds admin.address (port 0 picks a free one). Error: a message naming what failed.
  [[nodiscard]] static Result<std::unique_ptr<AdminServer>, std::string> prepare(
      const config::Config& config);
  // Serves the API on its own threads. `services` and what `hooks` use must outlive this object.
  void start(session::Services& services, Hooks hooks);
  // Stops serving and joins the threads.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // "https://127.0.0.1:8021", with the port actually bound.
  [[nodiscard]] const std::string& url() const noexcept { return url_; }

 private:
  AdminServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string url_;
};

// The live sessions as GET /api/v1/sessions lists them (a JSON array): what a cluster node publishes.
[[nodiscard]] std::string session_list_json(const session::SessionRegistry& registry);

}  // namespace ftpsd::admin
