#include "tls/certificate_info.hpp"

#include <arpa/inet.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>

#include "tls/openssl_ptr.hpp"

namespace ftpsd::tls {
namespace {

BioPtr memory(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Never asks for a passphrase (OpenSSL's default would read the terminal): an encrypted key fails.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

std::string name_text(const X509_NAME* name) {
  BioPtr out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const auto size = BIO_get_mem_data(out.get(), &data);
  return {data, static_cast<std::size_t>(size)};
}

std::chrono::system_clock::time_point time_of(const ASN1_TIME* t) {
  std::tm tm{};
  ASN1_TIME_to_tm(t, &tm);
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string serial_of(const X509* cert) {
  const std::unique_ptr<BIGNUM, OpenSslFree<BIGNUM, BN_free>> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return {};
  char* hex = BN_bn2hex(bn.get());
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

std::vector<std::string> names_of(const X509* cert) {
  std::vector<std::string> out;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
    if (gn->type == GEN_DNS) {
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                       static_cast<std::size_t>(ASN1_STRING_length(gn->d.dNSName)));
    } else if (gn->type == GEN_IPADD) {
      const auto length = ASN1_STRING_length(gn->d.iPAddress);
      std::array<char, INET6_ADDRSTRLEN> text{};
      const int family = length == 4 ? AF_INET : AF_INET6;
      if ((length == 4 || length == 16) &&
          inet_ntop(family, ASN1_STRING_get0_data(gn->d.iPAddress), text.data(), text.size()) != nullptr)
        out.emplace_back(text.data());
    }
  }
  GENERAL_NAMES_free(sans);
  return out;
}

std::string utc_text(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

// The certificates of a PEM text, the first one first; empty when it holds none or a broken one.
std::vector<X509Ptr> read_chain(std::string_view pem) {
  std::vector<X509Ptr> chain;
  auto bio = memory(pem);
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!cert) break;
    chain.push_back(std::move(cert));
  }
  // The end of the text is fine; anything else (a broken certificate after good ones) is not.
  const auto error = ERR_peek_last_error();
  ERR_clear_error();
  if (!chain.empty() && error != 0 && ERR_GET_REASON(error) != PEM_R_NO_START_LINE) chain.clear();
  return chain;
}

CertificateInfo info_of(const std::vector<X509Ptr>& chain) {
  const X509* cert = chain.front().get();
  CertificateInfo info;
  info.subject = name_text(X509_get_subject_name(cert));
  info.issuer = name_text(X509_get_issuer_name(cert));
  info.names = names_of(cert);
  info.serial = serial_of(cert);
  info.not_before = time_of(X509_get0_notBefore(cert));
  info.not_after = time_of(X509_get0_notAfter(cert));
  if (const EVP_PKEY* key = X509_get0_pubkey(cert)) {
    const char* type = EVP_PKEY_get0_type_name(key);
    info.key_type = type != nullptr ? type : "?";
    info.key_bits = EVP_PKEY_get_bits(key);
  }
  info.chain = chain.size();
  return info;
}

}  // namespace

Result<CertificateInfo, std::string> inspect_certificate(std::string_view pem) {
  const auto chain = read_chain(pem);
  if (chain.empty()) return Unexpected{std::string("not a PEM certificate")};
  return info_of(chain);
}

std::optional<PairProblem> check_pair(std::string_view certificate_pem, std::string_view private_key_pem,
                                      std::chrono::system_clock::time_point now) {
  using Field = PairProblem::Field;
  const auto chain = read_chain(certificate_pem);
  if (chain.empty()) return PairProblem{Field::kCertificate, "'certificate' is not a PEM certificate"};
  auto bio = memory(private_key_pem);
  const PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  ERR_clear_error();
  if (!key)
    return PairProblem{Field::kPrivateKey,
                       "'private_key' is not a PEM private key (an encrypted key is not accepted)"};
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return PairProblem{Field::kPrivateKey, "'private_key' does not belong to the certificate"};
  }
  const auto info = info_of(chain);
  if (info.not_after <= now)
    return PairProblem{Field::kCertificate,
                       fmt::format("'certificate' expired on {}", utc_text(info.not_after))};
  if (info.not_before > now)
    return PairProblem{Field::kCertificate,
                       fmt::format("'certificate' is not valid before {}", utc_text(info.not_before))};
  return std::nullopt;
}

}  // namespace ftpsd::tls
