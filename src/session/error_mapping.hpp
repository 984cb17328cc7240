#pragma once
// std::error_code -> Reply: the only place. Clients get a bland text, the log gets the detail.
#include <string_view>
#include <system_error>

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
[[nodiscard]] protocol::Reply data_error_reply(DataError e);
// 226 on success; 426/451/452/552 otherwise. `aborted`: ABOR closed the connection.
[[nodiscard]] protocol::Reply transfer_reply(const TransferOutcome& outcome, bool aborted,
                                             std::string_view ok_text);

}  // namespace ftpsd::session
