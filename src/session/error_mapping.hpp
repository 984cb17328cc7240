#pragma once
// std::error_code -> Reply: the only place. Clients get a bland text, the log gets the detail.
#include <optional>
#include <string_view>
#include <system_error>

#include "obs/metrics.hpp"
#include "protocol/reply.hpp"
#include "session/data_channel.hpp"
#include "session/transfer.hpp"
#include "vfs/virtual_path.hpp"

namespace ftpsd::session {

enum class Operation : std::uint8_t {
  kOpenRead,
  kOpenWrite,
  kList,
  kStat,
  kChangeDir,
  kMakeDir,
  kRemoveDir,
  kDelete,
  kRename,
  kSetTime,
  kChmod
};

[[nodiscard]] protocol::Reply fs_error_reply(std::error_code ec, Operation op);
[[nodiscard]] protocol::Reply path_error_reply(vfs::PathError e);

// What a data connection that could not be opened means: the reply, and the cause under which
// ftpsd_data_connection_failures_total counts it (none for ABOR and for a transfer without PASV, EPSV,
// PORT or EPRT before it: no connection failed).
struct DataErrorMeaning {
  protocol::Reply reply;
  std::optional<obs::DataFailure> failure;
};
[[nodiscard]] DataErrorMeaning data_error_meaning(DataError e);
[[nodiscard]] inline protocol::Reply data_error_reply(DataError e) {
  return data_error_meaning(e).reply;
}

// 226 on success; 426/451/452/552 otherwise. `aborted`: ABOR closed the connection.
[[nodiscard]] protocol::Reply transfer_reply(const TransferOutcome& outcome, bool aborted,
                                             std::string_view ok_text);
// The 426 of a transfer that ABOR (or the end of the session) ended.
[[nodiscard]] protocol::Reply transfer_aborted_reply();

}  // namespace ftpsd::session
