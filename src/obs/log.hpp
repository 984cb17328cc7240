#pragma once
// Logging: the session log (spdlog; stderr, a file or syslog; text or JSON lines) and the transfer
// log (xferlog). A session's lines carry its id, client address and user.
//
// Thread safety: every function may be called from any thread. configure_logging() swaps the sinks
// under spdlog's own locks, so lines being written meanwhile go to the old or the new destination.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.hpp"
#include "util/result.hpp"

namespace ftpsd::obs {

// Early logging to stderr, text format, before the configuration is known (and for the CLI tools).
void init_logging(const std::string& level);

// Applies [log]: level, format, destination (log.file, opened again: reload after logrotate moved it)
// and the xferlog file. On error (a file that cannot be opened) nothing changes and the error says why.
[[nodiscard]] Result<bool, std::string> configure_logging(const config::LogConfig& cfg);

// A named value of a session event, for the JSON format (the text format has it in its message).
struct Field {
  std::string_view key;
  std::variant<std::string_view, std::int64_t> value;
};

struct SessionRef {
  std::uint64_t id = 0;
  std::string_view client;
  std::string_view user;  // empty: not logged in yet
  std::string_view domain = "default";
};

// One session log line. Text: "s=<id> <client> <user or -> <message>", the user column followed by
// "@<domain>" in a domain other than the default. JSON: an object with the keys time, level, session,
// client, user, domain, event, message and then `fields`. The message and the values are
// data, never format strings.
void session_event(spdlog::level::level_enum level, const SessionRef& session, std::string_view event,
                   std::string_view message, std::initializer_list<Field> fields = {});

// `text` as a JSON string literal (with its quotes): control characters escaped, invalid UTF-8
// replaced by U+FFFD, so that every line stays one valid JSON object.
[[nodiscard]] std::string json_quote(std::string_view text);

// One finished file transfer, for the xferlog.
struct XferRecord {
  std::chrono::system_clock::time_point end;
  std::chrono::steady_clock::duration duration{};
  std::string remote_host;
  std::uint64_t bytes = 0;
  std::string filename;  // the server-side path
  bool ascii = false;
  bool incoming = false;  // an upload
  bool anonymous = false;
  std::string user;
  bool complete = false;
};

// The wu-ftpd xferlog line (without the newline): current-time transfer-time remote-host file-size
// filename transfer-type special-action-flag direction access-mode username service-name
// authentication-method authenticated-user-id completion-status. White space and control characters
// in the file and user names become '_' (as ProFTPD does), so that every line splits into 18 fields on
// white space. The time is local time, ctime(3) style; the transfer time whole seconds, at least 1.
[[nodiscard]] std::string format_xferlog(const XferRecord& r);

// Appends the record to log.xferlog, if one is configured.
void write_xferlog(const XferRecord& r);

}  // namespace ftpsd::obs
