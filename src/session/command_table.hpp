#pragma once
// The declarative command table: what each verb needs, said once (DESIGN.md principle 2).
#include "protocol/command.hpp"
#include "session/context.hpp"

namespace ftpsd::session {

using Handler = Task<Reply> (*)(SessionContext&, const protocol::Command&);

enum class Access : std::uint8_t {
  kAnyone,    // before login too
  kLoggedIn,  // 530 before login
};

struct CommandSpec {
  protocol::Verb verb;
  Handler handler = nullptr;
  Access access = Access::kLoggedIn;
  bool needs_argument = false;     // 501 without one
  bool needs_write = false;        // 550 for read-only users
  bool data_transfer = false;      // runs as the session's transfer task; needs PASV/EPSV/PORT/EPRT
  bool during_transfer = false;    // answered while a transfer runs (ABOR, STAT); others wait for its end
  bool keeps_rename = false;       // RNFR/RNTO: every other command forgets a pending RNFR
  bool sends_credentials = false;  // USER/PASS: refused on a clear control connection when TLS is required
};

// nullptr for a verb that is recognised but not implemented (502).
[[nodiscard]] const CommandSpec* find_command(protocol::Verb verb) noexcept;

// The verbs for HELP, in table order.
[[nodiscard]] std::vector<std::string_view> implemented_verbs();

}  // namespace ftpsd::session
