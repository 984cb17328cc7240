#pragma once
// `ftpsd cert self-signed`: an ECDSA P-256 certificate and key for tests and first runs.
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace ftpsd::tls {

// Writes `cert` (PEM certificate, 0644) and `key` (PEM PKCS#8 key, 0600). Each host is a DNS name or
// an IP address and goes into the subjectAltName; the first is also the CN.
[[nodiscard]] Result<bool, std::string> write_self_signed(const std::vector<std::string>& hosts,
                                                          const std::filesystem::path& cert,
                                                          const std::filesystem::path& key, int days);

}  // namespace ftpsd::tls
