#pragma once
// The server's TLS configuration as an OpenSSL context: certificates, versions, ciphers, session
// resumption for data connections, ALPN. Built once per configuration; sessions keep the snapshot they
// started with, so their data connections resume against the same session cache and ticket keys.
#include <asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ftpsd::tls {

class ServerContext {
 public:
  // Loads certificate and key and applies the policy. Errors name the file and OpenSSL's reason.
  static Result<std::shared_ptr<ServerContext>, std::string> create(const config::TlsConfig& cfg);

  asio::ssl::context& context() noexcept { return ctx_; }
  // A one-line description for logs: "CN=ftp.example.com (ECDSA P-256), expires 2027-11-21".
  [[nodiscard]] const std::string& description() const noexcept { return description_; }

 private:
  explicit ServerContext(asio::ssl::context ctx) : ctx_(std::move(ctx)) {}
  asio::ssl::context ctx_;
  std::string description_;
};

// Version and cipher of a TLS connection, e.g. "TLSv1.3 TLS_AES_128_GCM_SHA256".
[[nodiscard]] std::string describe_connection(SSL* ssl);

}  // namespace ftpsd::tls
