#pragma once
// The server's TLS configuration as an OpenSSL context: certificates, versions, ciphers, session
// resumption for data connections, ALPN. Built once per configuration; sessions keep the snapshot they
// started with, so their data connections resume against the same session cache and ticket keys.
#include <asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ftpsd::tls {

class ServerContext {
 public:
  // Loads every certificate and key and applies the policy. Errors name the file and OpenSSL's reason.
  static Result<std::shared_ptr<ServerContext>, std::string> create(const config::TlsConfig& cfg);

  // The default context (handshakes start here; SNI may switch to a per-host context).
  asio::ssl::context& context() noexcept { return *contexts_.front().ctx; }
  // "CN=ftp.example.com (EC 256 bits), valid until 2027-11-21" for each certificate, for logs.
  [[nodiscard]] const std::string& description() const noexcept { return description_; }

  // RFC 7151 HOST: the name to choose a certificate by when the client sends no SNI. The string
  // must outlive the handshake (it belongs to the session).
  static void set_host_hint(SSL* ssl, const std::string* host);

  // The identity of a verified client certificate: its CN and its DNS and e-mail SANs. Empty when
  // there is no certificate or it was not verified.
  [[nodiscard]] static std::vector<std::string> client_identities(SSL* ssl);

 private:
  struct Entry {
    std::vector<std::string> hosts;  // empty for the default
    std::unique_ptr<asio::ssl::context> ctx;
  };
  ServerContext() = default;
  static int on_servername(SSL* ssl, int* alert, void* arg);
  [[nodiscard]] SSL_CTX* find(std::string_view host) const;

  std::vector<Entry> contexts_;
  std::string description_;
};

// Holds the current context and replaces it on reload; a bad new certificate keeps the old one.
// Thread-safe. Sessions take current() once and keep it (their data connections resume against it).
class ContextStore {
 public:
  explicit ContextStore(config::TlsConfig cfg) : cfg_(std::move(cfg)) {}
  // Loads the configured files. Returns the error and keeps the previous context on failure.
  [[nodiscard]] Result<bool, std::string> reload();
  // Reloads if any certificate, key or CA file changed since the last load (by mtime and size).
  [[nodiscard]] Result<bool, std::string> reload_if_changed();
  // Configuration reload: `cfg` with the context made from it by ServerContext::create.
  void install(config::TlsConfig cfg, std::shared_ptr<ServerContext> context);
  [[nodiscard]] std::shared_ptr<ServerContext> current() const;

 private:
  [[nodiscard]] static std::string fingerprint(const config::TlsConfig& cfg);

  config::TlsConfig cfg_;
  mutable std::mutex mutex_;
  std::shared_ptr<ServerContext> current_;
  std::string loaded_fingerprint_;
};

// Version and cipher of a TLS connection, e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256".
[[nodiscard]] std::string describe_connection(SSL* ssl);

}  // namespace ftpsd::tls
