#include "admin/admin_server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <asio/ip/address.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "admin/api.hpp"
#include "admin/console.hpp"
#include "auth/admin_store.hpp"
#include "config/loader.hpp"
#include "inet/ip_network.hpp"
#include "sys/syscalls.hpp"

namespace ftpsd::admin {
namespace {

using HandlerResponse = httplib::Server::HandlerResponse;

constexpr std::size_t kMaxBody = 64 * 1024;  // every request of the API fits in far less
constexpr int kNice = 10;
constexpr std::size_t kThreads = 8;  // Api::kMostStreams of them may hold a live log stream

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

}  // namespace

struct AdminServer::Impl {
  std::unique_ptr<httplib::Server> http;
  Api api;
  std::thread thread;
  // The dashboard's sampler: one sample every History::kInterval until `stop`.
  std::thread sampler;
  std::mutex sampler_mutex;
  std::condition_variable sampler_wake;
  bool stop = false;  // under sampler_mutex

  void sample_until_stopped() {
    std::unique_lock lock(sampler_mutex);
    do {
      api.history.add(sample(*api.services));
    } while (!sampler_wake.wait_for(lock, History::kInterval, [this] { return stop; }));
  }

  void set_up() {
    auto& h = *http;
    h.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    h.set_payload_max_length(kMaxBody);
    h.set_keep_alive_timeout(2);
    // A browser or a script polls over one connection: 100 requests before it must reconnect (and pay
    // a TLS handshake again) rather than cpp-httplib's 5.
    h.set_keep_alive_max_count(100);
    // An answer is written as head then body: without TCP_NODELAY, Nagle's algorithm holds the body
    // until the client's delayed ACK of the head, 40 ms a request on Linux.
    h.set_tcp_nodelay(true);
    h.set_read_timeout(std::chrono::seconds(10));
    h.set_write_timeout(std::chrono::seconds(10));
    h.set_default_headers({{"Content-Security-Policy", "default-src 'self'"},
                           {"X-Frame-Options", "DENY"},
                           {"X-Content-Type-Options", "nosniff"},
                           {"Cache-Control", "no-store"}});
    // Plain HTTP (admin.tls = false) has no earlier hook than this: the request head is read, the
    // body is not. With TLS, refuse_outsiders has refused the connection long before.
    h.set_pre_routing_handler([this](const Request& req, Response& res) {
      if (!allowed(api.allow, req.remote_addr)) {
        spdlog::warn("admin: refused a request from {}: not in admin.allow", req.remote_addr);
        send_error(res, 403, "this address may not use the Manager (admin.allow)");
        return HandlerResponse::Handled;
      }
      if (const auto wait = api.limiter->take(req.remote_addr, RequestLimiter::Clock::now())) {
        const auto seconds =
            std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(*wait).count());
        res.set_header("Retry-After", std::to_string(seconds));
        send_error(res, 429,
                   fmt::format("too many requests from {} (admin.rate_limit): try again in {} s",
                               req.remote_addr, seconds));
        return HandlerResponse::Handled;
      }
      return HandlerResponse::Unhandled;
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
  impl.api.admins = std::move(*admins);
  auto audit = AuditLog::open(a.audit_file);
  if (!audit) return Unexpected{audit.error()};
  impl.api.audit = std::move(*audit);
  impl.api.allow = a.allow;
  impl.api.tls = a.tls;
  impl.api.limiter = std::make_unique<RequestLimiter>(a.rate_limit, a.rate_burst);
  if (a.tls) {
    std::string error;
    const auto& tls = config.tls;
    auto* allow = &impl.api.allow;  // lives as long as the server
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

void AdminServer::start(session::Services& services, Hooks hooks) {
  impl_->api.services = &services;
  impl_->api.hooks = std::move(hooks);
  if (impl_->api.hooks.audit && impl_->api.hooks.nodes)
    impl_->api.audit->share(impl_->api.hooks.audit, impl_->api.hooks.nodes->node());
  Router router(*impl_->http);
  add_routes(impl_->api, router);
  add_console_files(*impl_->http);
  impl_->sampler = std::thread([this] { impl_->sample_until_stopped(); });
  impl_->thread = std::thread([this] {
    // The Manager yields the CPU to FTP: its threads (this one, and the pool cpp-httplib starts from
    // it, which inherits its priority) run at nice 10, so a busy API takes what FTP leaves.
    if (const auto ec = sys::lower_thread_priority(kNice))
      spdlog::warn("admin: cannot lower the Manager's CPU priority: {}", ec.message());
    impl_->http->listen_after_bind();
  });
  // stop() only stops a server that runs: wait until it does, so that the destructor can stop it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!impl_->http->is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

AdminServer::~AdminServer() {
  if (!impl_) return;
  if (impl_->sampler.joinable()) {
    {
      const std::lock_guard lock(impl_->sampler_mutex);
      impl_->stop = true;
    }
    impl_->sampler_wake.notify_all();
    impl_->sampler.join();
  }
  if (impl_->thread.joinable()) {
    impl_->api.stopping = true;
    impl_->http->stop();
    impl_->thread.join();
  }
}

}  // namespace ftpsd::admin
