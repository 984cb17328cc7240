#pragma once
// OpenSSL objects behind unique_ptr, and the text of the last OpenSSL error.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace ftpsd::tls {

template <class T, void (*Free)(T*)>
struct OpenSslFree {
  void operator()(T* p) const noexcept { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509, X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO, BIO_free_all>>;

// The oldest queued OpenSSL error as text (and clears the queue); `fallback` if there is none.
inline std::string last_openssl_error(std::string fallback = "unknown OpenSSL error") {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

}  // namespace ftpsd::tls
