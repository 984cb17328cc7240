#include "admin/admin_server.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <asio/ip/address.hpp>
#include <atomic>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "admin/tokens.hpp"
#include "auth/admin_store.hpp"
#include "auth/password.hpp"
#include "config/loader.hpp"
#include "inet/ip_network.hpp"
#include "sys/syscalls.hpp"

namespace ftpsd::admin {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr std::size_t kMaxBody = 64 * 1024;  // every request of the API fits in far less
constexpr std::size_t kThreads = 4;

bool allowed(const std::vector<inet::IpNetwork>& allow, const std::string& address) {
  std::error_code ec;
  const auto parsed = asio::ip::make_address(address, ec);
  return !ec && inet::any_contains(allow, parsed);
}

// TLS: the earliest point at which cpp-httplib hands us a connection is the TLS handshake; the
// ClientHello callback refuses a client outside admin.allow there, before any HTTP byte is read.
int refuse_outsiders(SSL* ssl, int* alert, void* arg) {
  const auto& allow = *static_cast<const std::vector<inet::IpNetwork>*>(arg);
  const auto peer = sys::peer_address(SSL_get_fd(ssl));
  if (peer && allowed(allow, *peer)) return SSL_CLIENT_HELLO_SUCCESS;
  spdlog::warn("admin: refused a connection from {}: not in admin.allow",
               peer.value_or("an unknown address"));
  *alert = SSL_AD_ACCESS_DENIED;
  return SSL_CLIENT_HELLO_ERROR;
}

// Text from clients (a file name in a transfer) may be invalid UTF-8: written with U+FFFD in its place
// rather than failing the whole answer.
void send_json(Response& res, const json& body, int status = 200) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(Response& res, int status, std::string_view message,
                std::optional<std::string_view> field = {}) {
  send_json(res, json{{"error", message}, {"field", field ? json(*field) : json(nullptr)}}, status);
}

std::string utc(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

template <class Duration>
std::int64_t whole_seconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

json session_json(const session::SessionView& s) {
  json transfer = nullptr;
  if (s.transfer) {
    transfer = json{{"command", s.transfer->command},
                    {"path", s.transfer->path},
                    {"bytes", s.transfer->bytes},
                    {"total", s.transfer->total},
                    {"started", utc(s.transfer->started)}};
  }
  return json{{"id", s.id},
              {"user", s.user.empty() ? json(nullptr) : json(s.user)},
              {"client", s.client},
              {"domain", s.domain},
              {"listener", s.listener},
              {"tls", s.tls.empty() ? json(nullptr) : json(s.tls)},
              {"data_tls_reused", s.data_tls_reused ? json(*s.data_tls_reused) : json(nullptr)},
              {"transfer", transfer},
              {"idle_seconds", whole_seconds(s.idle)},
              {"started", utc(s.started)}};
}

// The generic answer to an error cpp-httplib finds itself (no route, body too large, bad request line).
std::string_view error_text(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such resource";
    case 405:
      return "method not allowed";
    case 413:
      return "request too large";
    case 414:
      return "request line too long";
    default:
      return "the request failed";
  }
}

}  // namespace

struct AdminServer::Impl {
  std::unique_ptr<httplib::Server> http;
  auth::AdminStore admins;
  TokenStore tokens;
  std::vector<inet::IpNetwork> allow;
  std::chrono::milliseconds login_delay{};
  std::atomic<std::uint64_t> failed_logins{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  session::Services* services = nullptr;
  std::thread thread;

  // Who sent the request (its bearer token), or nullopt after answering 401.
  std::optional<TokenHolder> authenticate(const Request& req, Response& res) {
    constexpr std::string_view kBearer = "Bearer ";
    const auto header = req.get_header_value("Authorization");
    if (!header.starts_with(kBearer)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "sign in first: POST /api/v1/auth/token, then send Authorization: Bearer TOKEN");
      return std::nullopt;
    }
    auto holder = tokens.find(header.substr(kBearer.size()));
    if (!holder) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "the token is unknown or has expired: sign in again");
    }
    return holder;
  }

  void sign_in(const Request& req, Response& res) {
    const auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      send_error(res, 400, R"(the body must be a JSON object {"name": ..., "password": ...})");
      return;
    }
    for (const char* field : {"name", "password"}) {
      if (!body.contains(field) || !body[field].is_string()) {
        send_error(res, 400, fmt::format("'{}' must be a string", field), field);
        return;
      }
    }
    const auto name = body["name"].get<std::string>();
    const auto password = body["password"].get<std::string>();
    const auto* admin = admins.find(name);
    bool ok = false;
    if (admin != nullptr) {
      ok = auth::verify_password(password, admin->password_hash);
    } else {
      auth::verify_dummy(password);  // an unknown name takes as long as a wrong password
    }
    if (!ok) {
      failed_logins.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("admin: failed sign-in as {} from {}", json(name).dump(), req.remote_addr);
      std::this_thread::sleep_for(login_delay);
      send_error(res, 401, "wrong name or password");
      return;
    }
    const auto issued = tokens.issue({.name = admin->name, .role = admin->role});
    spdlog::info("admin: {} ({}) signed in from {}", admin->name, auth::name(admin->role), req.remote_addr);
    send_json(
        res,
        json{{"token", issued.token}, {"expires", utc(issued.expires)}, {"role", auth::name(admin->role)}});
  }

  void status(Response& res) const {
    // One entry per port pool, as in the metrics: the default's, then each domain with passive.ports
    // of its own (the others share the default's pool).
    const auto snapshot = services->snapshot();
    json pools = json::array();
    for (const auto& d : snapshot.domains) {
      if (d != snapshot.default_domain() && d->ports == snapshot.default_domain()->ports) continue;
      pools.push_back(json{{"domain", d->name},
                           {"capacity", d->ports->capacity()},
                           {"in_use", d->ports->in_use()},
                           {"cooling", d->ports->cooling()}});
    }
    send_json(res, json{{"version", FTPSD_VERSION},
                        {"uptime_seconds", whole_seconds(std::chrono::steady_clock::now() - started)},
                        {"sessions", services->registry.size()},
                        {"passive_ports", pools},
                        {"manager", json{{"failed_logins", failed_logins.load(std::memory_order_relaxed)}}}});
  }

  void sessions(Response& res) const {
    json list = json::array();
    for (const auto& s : services->registry.list()) list.push_back(session_json(s));
    send_json(res, json{{"sessions", list}});
  }

  void end_session(const Request& req, Response& res, const TokenHolder& who) const {
    if (who.role < auth::AdminRole::kOperator) {
      send_error(res, 403, "ending a session needs the role operator or admin");
      return;
    }
    const auto& text = req.matches[1].str();
    std::uint64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || !services->registry.end(id)) {
      send_error(res, 404, fmt::format("no session {}", text));
      return;
    }
    spdlog::info("admin: {} ended session {} from {}", who.name, id, req.remote_addr);
    send_json(res, json{{"id", id}, {"ended", true}});
  }

  void routes() {
    auto& h = *http;
    h.Post("/api/v1/auth/token", [this](const Request& req, Response& res) { sign_in(req, res); });
    h.Get("/api/v1/status", [this](const Request& req, Response& res) {
      if (authenticate(req, res)) status(res);
    });
    h.Get("/api/v1/sessions", [this](const Request& req, Response& res) {
      if (authenticate(req, res)) sessions(res);
    });
    h.Delete(R"(/api/v1/sessions/(\d+))", [this](const Request& req, Response& res) {
      if (const auto who = authenticate(req, res)) end_session(req, res, *who);
    });
  }

  void set_up() {
    auto& h = *http;
    h.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    h.set_payload_max_length(kMaxBody);
    h.set_keep_alive_timeout(2);
    h.set_read_timeout(std::chrono::seconds(10));
    h.set_write_timeout(std::chrono::seconds(10));
    h.set_default_headers({{"Content-Security-Policy", "default-src 'self'"},
                           {"X-Frame-Options", "DENY"},
                           {"X-Content-Type-Options", "nosniff"},
                           {"Cache-Control", "no-store"}});
    // Plain HTTP (admin.tls = false) has no earlier hook than this: the request head is read, the
    // body is not. With TLS, refuse_outsiders has refused the connection long before.
    h.set_pre_routing_handler([this](const Request& req, Response& res) {
      if (allowed(allow, req.remote_addr)) return HandlerResponse::Unhandled;
      spdlog::warn("admin: refused a request from {}: not in admin.allow", req.remote_addr);
      send_error(res, 403, "this address may not use the Manager (admin.allow)");
      return HandlerResponse::Handled;
    });
    h.set_error_handler(httplib::Server::HandlerWithResponse([](const Request&, Response& res) {
      if (!res.body.empty()) return HandlerResponse::Unhandled;
      send_error(res, res.status, error_text(res.status));
      return HandlerResponse::Handled;
    }));
    h.set_exception_handler([](const Request&, Response& res, const std::exception_ptr&) {
      send_error(res, 500, "internal error");
    });
    // Method, path and status only: never a body, a query or a header (passwords, tokens).
    h.set_logger([](const Request& req, const Response& res) {
      spdlog::debug("admin: {} {} {} from {}", req.method, req.path, res.status, req.remote_addr);
    });
  }
};

Result<std::unique_ptr<AdminServer>, std::string> AdminServer::prepare(const config::Config& config) {
  const auto& a = config.admin;
  auto hp = config::parse_listen_address(a.address);
  if (!hp) return Unexpected{fmt::format("admin.address: {}", hp.error())};
  auto admins = auth::AdminStore::load(a.users_file);
  if (!admins) return Unexpected{admins.error().message};
  std::unique_ptr<AdminServer> server(new AdminServer());
  server->impl_ = std::make_unique<Impl>();
  auto& impl = *server->impl_;
  impl.admins = std::move(*admins);
  impl.allow = a.allow;
  impl.login_delay = std::chrono::duration_cast<std::chrono::milliseconds>(config.bans.login_delay);
  if (a.tls) {
    std::string error;
    const auto& tls = config.tls;
    auto* allow = &impl.allow;  // lives as long as the server
    impl.http = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
      SSL_CTX_set_options(&ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
      if (SSL_CTX_use_certificate_chain_file(&ctx, tls.certificate.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(&ctx, tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
          SSL_CTX_check_private_key(&ctx) != 1) {
        error = fmt::format("cannot use the certificate {} and key {}", tls.certificate.string(),
                            tls.private_key.string());
        return false;
      }
      if (SSL_CTX_set_cipher_list(&ctx, tls.ciphers.c_str()) != 1 ||
          SSL_CTX_set_ciphersuites(&ctx, tls.ciphersuites.c_str()) != 1) {
        error = "tls.ciphers or tls.ciphersuites: no usable cipher";
        return false;
      }
      SSL_CTX_set_client_hello_cb(&ctx, refuse_outsiders, allow);
      return true;
    });
    if (!impl.http->is_valid()) return Unexpected{fmt::format("admin: {}", error)};
  } else {
    impl.http = std::make_unique<httplib::Server>();
  }
  impl.set_up();
  const auto& [host, port] = *hp;
  const int bound =
      port == 0 ? impl.http->bind_to_any_port(host) : (impl.http->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return Unexpected{fmt::format("admin.address: cannot listen on {}", a.address)};
  const bool v6 = host.find(':') != std::string::npos;
  const auto* scheme = a.tls ? "https" : "http";
  server->url_ =
      v6 ? fmt::format("{}://[{}]:{}", scheme, host, bound) : fmt::format("{}://{}:{}", scheme, host, bound);
  return server;
}

void AdminServer::start(session::Services& services) {
  impl_->services = &services;
  impl_->routes();
  impl_->thread = std::thread([this] { impl_->http->listen_after_bind(); });
  // stop() only stops a server that runs: wait until it does, so that the destructor can stop it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!impl_->http->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

AdminServer::~AdminServer() {
  if (!impl_) return;
  if (impl_->thread.joinable()) {
    impl_->http->stop();
    impl_->thread.join();
  }
}

}  // namespace ftpsd::admin
