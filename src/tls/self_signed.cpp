#include "tls/self_signed.hpp"

#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>

#include "protocol/host_port.hpp"
#include "tls/openssl_ptr.hpp"

namespace ftpsd::tls {
namespace {

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX v3{};
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Result<bool, std::string> write_pem(const std::filesystem::path& path, mode_t mode, auto write) {
  const auto tmp = path.string() + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wx");
  if (f == nullptr) {
    std::filesystem::remove(tmp);
    f = std::fopen(tmp.c_str(), "wx");
  }
  if (f == nullptr) return Unexpected{fmt::format("{}: cannot create", tmp)};
  ::fchmod(fileno(f), mode);
  const bool ok = write(f);
  if (std::fclose(f) != 0 || !ok) return Unexpected{fmt::format("{}: cannot write", tmp)};
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unexpected{fmt::format("{}: {}", path.string(), ec.message())};
  return true;
}

}  // namespace

Result<bool, std::string> write_self_signed(const std::vector<std::string>& hosts,
                                            const std::filesystem::path& cert_path,
                                            const std::filesystem::path& key_path, int days) {
  if (hosts.empty()) return Unexpected{std::string("at least one --host is needed")};
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (!key || !cert) return Unexpected{last_openssl_error()};
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(hosts[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san;
  for (const auto& h : hosts) {
    const bool ip = !protocol::canonical_address(h).empty();
    san += fmt::format("{}{}:{}", san.empty() ? "" : ",", ip ? "IP" : "DNS", h);
  }
  if (!add_extension(cert.get(), NID_subject_alt_name, san) ||
      !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth"))
    return Unexpected{fmt::format("subjectAltName \"{}\": {}", san, last_openssl_error())};
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return Unexpected{last_openssl_error()};
  auto k = write_pem(key_path, 0600, [&](FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  });
  if (!k) return k;
  return write_pem(cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
}

}  // namespace ftpsd::tls
