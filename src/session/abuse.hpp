#pragma once
// Failed logins and protocol abuse: one log line per offence that fail2ban can match (the client
// address always right after the fixed prefix), the counters in obs::metrics(), and the ban when
// bans.max_failures is reached. See examples/fail2ban/.
#include <string>
#include <string_view>

#include "session/services.hpp"

namespace ftpsd::session {

enum class Offence : std::uint8_t { kLogin, kProtocol };

struct OffenceResult {
  std::size_t recent = 0;  // recent offences of this address, this one included (0: not tracked)
  bool banned = false;     // the address is banned now (by this offence or before)
  bool exempt = false;     // the address is in bans.exempt: no delay, no ban
};

// Logs "login failed: client=A <detail>" or "protocol abuse: client=A <detail>" and, when this
// starts a ban, "ban: client=A for Ns after K failures".
OffenceResult report_offence(Services& services, const config::Config& cfg, const asio::ip::address& client,
                             Offence kind, std::string_view detail);

// The wait before the 530 of a failed login: bans.login_delay doubled per earlier recent failure, at
// most bans.max_login_delay; zero when login_delay is 0.
[[nodiscard]] Duration login_delay(const config::BansConfig& cfg, std::size_t failures);

// A client-chosen text (a user name) made safe for a log line: printable ASCII except '"' and '\',
// at most 64 bytes; anything else becomes '?'.
[[nodiscard]] std::string log_safe(std::string_view text);

}  // namespace ftpsd::session
