#pragma once
// What a certificate says (for the Manager and the logs), and whether a certificate and key sent by
// someone fit together before they are installed. Pure: PEM text in, values out; no files, no clock.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ftpsd::tls {

struct CertificateInfo {
  std::string subject;  // RFC 2253: "CN=ftp.example.com,O=Example"
  std::string issuer;
  std::vector<std::string> names;  // the DNS and IP address SANs, in order
  std::string serial;              // upper-case hex without leading zeros: "5EED"
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::string key_type;  // "EC", "RSA", "ED25519", ...
  int key_bits = 0;
  std::size_t chain = 0;  // certificates in the PEM text, the first one included
};

// The first certificate of a PEM chain. Error: no PEM certificate in `pem`, or a broken one after it.
[[nodiscard]] Result<CertificateInfo, std::string> inspect_certificate(std::string_view pem);

// Why a certificate chain and private key (PEM) cannot be served at `now`; nullopt: they can.
struct PairProblem {
  enum class Field : std::uint8_t { kCertificate, kPrivateKey } field;
  std::string message;  // "'certificate' expired on 2020-01-02T00:00:00Z"
};
[[nodiscard]] std::optional<PairProblem> check_pair(std::string_view certificate_pem,
                                                    std::string_view private_key_pem,
                                                    std::chrono::system_clock::time_point now);

}  // namespace ftpsd::tls
