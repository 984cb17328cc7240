#pragma once
// The pure parts of `ftpsd doctor`: the URL, reply parsing, and the verdicts with their fixes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace ftpsd::tools {

enum class DoctorTls : std::uint8_t { kNone, kExplicit, kImplicit };

struct DoctorTarget {
  std::string user;
  std::string host;
  std::uint16_t port = 21;
  DoctorTls tls = DoctorTls::kNone;
};

// "ftp://user@host[:port]" (clear), "ftps://user@host[:port]" (explicit; implicit with `implicit`,
// default port 990). IPv6 hosts in brackets.
[[nodiscard]] Result<DoctorTarget, std::string> parse_doctor_url(std::string_view url, bool implicit);

// The address and port of a 227 reply's "(h1,h2,h3,h4,p1,p2)"; of a 229 reply's "(|||port|)".
struct PassiveTarget {
  std::string address;  // empty for 229
  std::uint16_t port = 0;
};
[[nodiscard]] std::optional<PassiveTarget> parse_227(std::string_view reply_text);
[[nodiscard]] std::optional<std::uint16_t> parse_229(std::string_view reply_text);

enum class Verdict : std::uint8_t { kPass, kWarn, kFail, kSkip };

struct StepResult {
  Verdict verdict = Verdict::kPass;
  std::string detail;  // what was seen
  std::string fix;     // what to do (empty when nothing)
};

// The address a 227 reply gave, judged against the address the control connection reached.
[[nodiscard]] StepResult judge_pasv_address(const std::string& advertised, const std::string& control_peer);

// Whether the URL's host is a name (HOST and the certificate's names are checked) or an IP literal.
[[nodiscard]] bool is_host_name(std::string_view host);

// The reply to `HOST name` (RFC 7151), sent right after the greeting: 220 is the domain's banner; 500
// and 502 a server that does not know HOST (it cannot tell domains apart by name); anything else, 504
// above all, a server that serves no domain of that name.
[[nodiscard]] StepResult judge_host_reply(std::string_view host, int code, const std::string& text);

// Whether one name of a certificate (a DNS subjectAltName, or the CN) covers `host`: equal ignoring case,
// or a wildcard "*.example.com" standing for exactly one leftmost label ("ftp.example.com", not
// "example.com" nor "a.ftp.example.com").
[[nodiscard]] bool certificate_name_matches(std::string_view name, std::string_view host);
[[nodiscard]] bool certificate_covers(const std::vector<std::string>& names, std::string_view host);

// The certificate's names judged against the host name the client asked for (by SNI).
[[nodiscard]] StepResult judge_certificate_names(const std::vector<std::string>& names,
                                                 std::string_view host);

// "  [PASS] TCP connect to 198.51.100.1:21 ... 12 ms" plus "         fix: ..." lines.
[[nodiscard]] std::string format_step(std::string_view name, const StepResult& r);

}  // namespace ftpsd::tools
