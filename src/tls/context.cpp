#include "tls/context.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <system_error>

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

namespace {

int host_hint_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

bool host_matches(std::string_view pattern, std::string_view host) {
  auto lower_eq = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(x) == std::tolower(y);
           });
  };
  if (pattern.starts_with("*.")) {  // one label, as in certificates
    const auto dot = host.find('.');
    return dot != std::string_view::npos && dot > 0 && lower_eq(pattern.substr(1), host.substr(dot));
  }
  return lower_eq(pattern, host);
}

// The settings every context shares: versions, ciphers, resumption, ALPN, client certificates.
Result<bool, std::string> configure(SSL_CTX* ctx, const config::TlsConfig& cfg) {
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
  if (cfg.client_certificates != config::ClientCertificates::kOff) {
    if (SSL_CTX_load_verify_locations(ctx, cfg.client_ca.c_str(), nullptr) != 1)
      return Unexpected{
          fmt::format("{}: cannot load the client CA: {}", cfg.client_ca.string(), last_openssl_error())};
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.client_ca.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
    if (cfg.client_certificates == config::ClientCertificates::kRequired)
      mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  }
  return true;
}

// Opens `file` for OpenSSL; the error says why not (missing, not readable) and which key names it.
Result<BioPtr, std::string> open_pem(const std::filesystem::path& file, std::string_view what,
                                     std::string_view key) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr)
    return Unexpected{fmt::format("{}: cannot read the {} ({}): {}", file.string(), what, key,
                                  std::generic_category().message(errno))};
  BioPtr bio(BIO_new_fp(f, BIO_CLOSE));
  if (!bio) {
    std::fclose(f);
    return Unexpected{fmt::format("{}: {}", file.string(), last_openssl_error())};
  }
  return bio;
}

// One certificate chain and its key into `ctx`. `where` is the table that names them ("tls",
// "tls.certificates[0]"). Errors name the file and say whether it is missing, is not PEM, or the key
// belongs to another certificate: `ftpsd check-config` prints them as they are.
Result<bool, std::string> load_pair(SSL_CTX* ctx, const std::filesystem::path& cert,
                                    const std::filesystem::path& key, std::string_view where) {
  const auto cert_key = fmt::format("{}.certificate", where);
  const auto key_key = fmt::format("{}.private_key", where);
  if (auto readable = open_pem(cert, "certificate", cert_key); !readable) return Unexpected{readable.error()};
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return Unexpected{fmt::format("{}: not a PEM certificate chain ({}): {}", cert.string(), cert_key,
                                  last_openssl_error())};
  auto bio = open_pem(key, "private key", key_key);
  if (!bio) return Unexpected{bio.error()};
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio->get(), nullptr, SSL_CTX_get_default_passwd_cb(ctx),
                                       SSL_CTX_get_default_passwd_cb_userdata(ctx)));
  if (!pkey)
    return Unexpected{
        fmt::format("{}: not a PEM private key ({}): {}", key.string(), key_key, last_openssl_error())};
  // The chain just loaded is the current certificate; a key of another type would go to another
  // slot, so the pair is checked before the key is installed.
  if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), pkey.get()) != 1) {
    ERR_clear_error();
    return Unexpected{fmt::format("{}: the private key does not match the certificate {} ({})", key.string(),
                                  cert.string(), key_key)};
  }
  if (SSL_CTX_use_PrivateKey(ctx, pkey.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1)
    return Unexpected{
        fmt::format("{} does not match {}: {}", key.string(), cert.string(), last_openssl_error())};
  return true;
}

std::string describe_all(SSL_CTX* ctx) {
  std::string out;
  for (long r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); r == 1;
       r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT))
    out += (out.empty() ? "" : "; ") + describe_certificate(ctx);
  return out.empty() ? describe_certificate(ctx) : out;
}

}  // namespace

Result<std::shared_ptr<ServerContext>, std::string> ServerContext::create(const config::TlsConfig& cfg) {
  auto server = std::shared_ptr<ServerContext>(new ServerContext());
  ERR_clear_error();
  // The default context: the main pair and every extra pair without hosts (e.g. RSA beside ECDSA).
  auto add_context = [&](std::vector<std::string> hosts) -> Result<SSL_CTX*, std::string> {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    if (auto ok = configure(ctx->native_handle(), cfg); !ok) return Unexpected{ok.error()};
    SSL_CTX* native = ctx->native_handle();
    server->contexts_.push_back(Entry{std::move(hosts), std::move(ctx)});
    return native;
  };
  auto def = add_context({});
  if (!def) return Unexpected{def.error()};
  if (auto ok = load_pair(*def, cfg.certificate, cfg.private_key, "tls"); !ok) return Unexpected{ok.error()};
  std::vector<std::pair<const config::CertificatePair*, std::string>> by_host;
  for (std::size_t i = 0; i < cfg.certificates.size(); ++i) {
    const auto& pair = cfg.certificates[i];
    auto where = fmt::format("tls.certificates[{}]", i);
    if (!pair.hosts.empty()) {
      by_host.emplace_back(&pair, std::move(where));
      continue;
    }
    if (auto ok = load_pair(*def, pair.certificate, pair.private_key, where); !ok)
      return Unexpected{ok.error()};
  }
  server->description_ = describe_all(*def);
  for (const auto& [pair, where] : by_host) {
    auto ctx = add_context(pair->hosts);
    if (!ctx) return Unexpected{ctx.error()};
    if (auto ok = load_pair(*ctx, pair->certificate, pair->private_key, where); !ok)
      return Unexpected{ok.error()};
    server->description_ += fmt::format("; for {}: {}", fmt::join(pair->hosts, ","), describe_all(*ctx));
  }
  SSL_CTX_set_tlsext_servername_callback(*def, on_servername);
  SSL_CTX_set_tlsext_servername_arg(*def, server.get());
  return server;
}

SSL_CTX* ServerContext::find(std::string_view host) const {
  for (std::size_t i = 1; i < contexts_.size(); ++i)
    for (const auto& pattern : contexts_[i].hosts)
      if (host_matches(pattern, host)) return contexts_[i].ctx->native_handle();
  return nullptr;
}

int ServerContext::on_servername(SSL* ssl, int*, void* arg) {
  const auto* self = static_cast<const ServerContext*>(arg);
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const auto* hint = static_cast<const std::string*>(SSL_get_ex_data(ssl, host_hint_index()));
  std::string_view name = sni != nullptr ? std::string_view(sni) : (hint ? std::string_view(*hint) : "");
  if (!name.empty()) {
    if (SSL_CTX* ctx = self->find(name)) SSL_set_SSL_CTX(ssl, ctx);
  }
  return SSL_TLSEXT_ERR_OK;
}

void ServerContext::set_host_hint(SSL* ssl, const std::string* host) {
  SSL_set_ex_data(ssl, host_hint_index(), const_cast<std::string*>(host));
}

std::vector<std::string> ServerContext::client_identities(SSL* ssl) {
  std::vector<std::string> out;
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return out;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return out;
  std::array<char, 256> cn{};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(), cn.size()) > 0)
    out.emplace_back(cn.data());
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type == GEN_DNS || gn->type == GEN_EMAIL) {
      const auto* str = gn->type == GEN_DNS ? gn->d.dNSName : gn->d.rfc822Name;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(str)),
                       static_cast<std::size_t>(ASN1_STRING_length(str)));
    }
  }
  GENERAL_NAMES_free(sans);
  return out;
}

Result<bool, std::string> ContextStore::reload() {
  config::TlsConfig cfg;
  {
    std::lock_guard lock(mutex_);
    cfg = cfg_;
  }
  const auto fp = fingerprint(cfg);
  auto created = ServerContext::create(cfg);
  std::lock_guard lock(mutex_);
  loaded_fingerprint_ = fp;  // a broken file is not retried until it changes again
  if (!created) return Unexpected{created.error()};
  current_ = std::move(*created);
  return true;
}

Result<bool, std::string> ContextStore::reload_if_changed() {
  {
    std::lock_guard lock(mutex_);
    if (fingerprint(cfg_) == loaded_fingerprint_) return false;
  }
  return reload();
}

void ContextStore::install(config::TlsConfig cfg, std::shared_ptr<ServerContext> context) {
  auto fp = fingerprint(cfg);
  std::lock_guard lock(mutex_);
  cfg_ = std::move(cfg);
  loaded_fingerprint_ = std::move(fp);
  current_ = std::move(context);
}

std::shared_ptr<ServerContext> ContextStore::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::string ContextStore::fingerprint(const config::TlsConfig& cfg) {
  std::string fp;
  auto add = [&fp](const std::filesystem::path& p) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(p, ec);
    const auto time = std::filesystem::last_write_time(p, ec).time_since_epoch().count();
    fp += fmt::format("{}:{}:{};", p.string(), ec ? 0 : size, ec ? 0 : time);
  };
  add(cfg.certificate);
  add(cfg.private_key);
  for (const auto& pair : cfg.certificates) {
    add(pair.certificate);
    add(pair.private_key);
  }
  if (!cfg.client_ca.empty()) add(cfg.client_ca);
  return fp;
}

std::string describe_connection(SSL* ssl) {
  if (ssl == nullptr) return "plain text";
  return fmt::format("{} {}{}", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
                     SSL_session_reused(ssl) ? " (resumed session)" : "");
}

}  // namespace ftpsd::tls
