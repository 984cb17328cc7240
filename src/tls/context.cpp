#include "tls/context.hpp"

#include <fmt/format.h>

#include <array>

#include "tls/openssl_ptr.hpp"

namespace ftpsd::tls {
namespace {

// ALPN (RFC 7301): "ftp" is accepted; a client that offers only other protocols is refused, so a TLS
// connection meant for HTTPS or IMAP cannot be redirected to this server (the ALPACA attack).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr unsigned char kFtp[] = {3, 'f', 't', 'p'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kFtp, sizeof kFtp, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string describe_certificate(SSL_CTX* ctx) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  if (cert == nullptr) return "no certificate";
  std::array<char, 256> subject{};
  X509_NAME_oneline(X509_get_subject_name(cert), subject.data(), subject.size());
  EVP_PKEY* key = X509_get0_pubkey(cert);
  const char* type = key ? EVP_PKEY_get0_type_name(key) : "?";
  std::tm tm{};
  ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
  return fmt::format("{} ({} {} bits), valid until {:04}-{:02}-{:02}", subject.data(), type ? type : "?",
                     key ? EVP_PKEY_get_bits(key) : 0, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace

Result<std::shared_ptr<ServerContext>, std::string> ServerContext::create(const config::TlsConfig& cfg) {
  auto server =
      std::shared_ptr<ServerContext>(new ServerContext(asio::ssl::context(asio::ssl::context::tls_server)));
  SSL_CTX* ctx = server->ctx_.native_handle();
  ERR_clear_error();
  const int min = cfg.min_version == config::TlsVersion::k1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1) return Unexpected{last_openssl_error()};
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // Idle sessions give their read and write buffers back (thousands of idle TLS sessions).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_set_cipher_list(ctx, cfg.ciphers.c_str()) != 1)
    return Unexpected{fmt::format("tls.ciphers \"{}\": {}", cfg.ciphers, last_openssl_error())};
  if (SSL_CTX_set_ciphersuites(ctx, cfg.ciphersuites.c_str()) != 1)
    return Unexpected{fmt::format("tls.ciphersuites \"{}\": {}", cfg.ciphersuites, last_openssl_error())};
  if (SSL_CTX_set1_groups_list(ctx, cfg.groups.c_str()) != 1)
    return Unexpected{fmt::format("tls.groups \"{}\": {}", cfg.groups, last_openssl_error())};
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg.certificate.c_str()) != 1)
    return Unexpected{fmt::format("{}: cannot load the certificate chain: {}", cfg.certificate.string(),
                                  last_openssl_error())};
  if (SSL_CTX_use_PrivateKey_file(ctx, cfg.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
    return Unexpected{fmt::format("{}: cannot load the private key, or it does not match {}: {}",
                                  cfg.private_key.string(), cfg.certificate.string(), last_openssl_error())};
  if (SSL_CTX_check_private_key(ctx) != 1)
    return Unexpected{fmt::format("{} does not match {}: {}", cfg.private_key.string(),
                                  cfg.certificate.string(), last_openssl_error())};
  // Data connections resume the control connection's session (TLS 1.2 session id or ticket, TLS 1.3
  // PSK). Each control connection sets its own session id context on its SSL objects, so a session can
  // only be resumed on the data connections of the control connection that made it.
  static constexpr unsigned char kDefaultSidCtx[] = "ftpsd";
  SSL_CTX_set_session_id_context(ctx, kDefaultSidCtx, sizeof kDefaultSidCtx - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_timeout(
      ctx, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(cfg.session_lifetime).count()));
  SSL_CTX_sess_set_cache_size(ctx, 100'000);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  server->description_ = describe_certificate(ctx);
  return server;
}

std::string describe_connection(SSL* ssl) {
  if (ssl == nullptr) return "plain text";
  return fmt::format("{} {}{}", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
                     SSL_session_reused(ssl) ? " (resumed session)" : "");
}

}  // namespace ftpsd::tls
