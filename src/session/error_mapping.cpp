#include "session/error_mapping.hpp"

#include <cerrno>
#include <string>

namespace ftpsd::session {

using protocol::Reply;
using protocol::ReplyCode;

namespace {

std::string_view failed_text(Operation op) {
  switch (op) {
    case Operation::kOpenRead:
      return "Failed to open file.";
    case Operation::kOpenWrite:
      return "Could not create file.";
    case Operation::kList:
    case Operation::kStat:
      return "No such file or directory.";
    case Operation::kChangeDir:
      return "Failed to change directory.";
    case Operation::kMakeDir:
      return "Create directory operation failed.";
    case Operation::kRemoveDir:
      return "Remove directory operation failed.";
    case Operation::kDelete:
      return "Delete operation failed.";
    case Operation::kRename:
      return "Rename failed.";
    case Operation::kSetTime:
      return "Could not set the modification time.";
    case Operation::kChmod:
      return "SITE CHMOD command failed.";
  }
  return "Requested action not taken.";
}

}  // namespace

Reply fs_error_reply(std::error_code ec, Operation op) {
  // SECURITY: not found, permission denied and "outside the root" (EXDEV/ELOOP from openat2) give the
  // same text: no oracle for what exists outside, or for why a path was refused.
  if (is_storage_full(ec)) {
    if (ec.value() == ENOSPC) return {ReplyCode::kInsufficientStorage, "Insufficient storage space."};
    return {ReplyCode::kExceededStorage,
            ec.value() == EDQUOT ? "Quota exceeded." : "File too large: exceeded storage allocation."};
  }
  if (ec == std::errc::file_exists)
    return {ReplyCode::kFileUnavailable, std::string(failed_text(op)) + " File exists."};
  if (ec == std::errc::directory_not_empty)
    return {ReplyCode::kFileUnavailable, std::string(failed_text(op)) + " Directory not empty."};
  if (ec == std::errc::is_a_directory && op != Operation::kChangeDir)
    return {ReplyCode::kFileUnavailable, std::string(failed_text(op)) + " It is a directory."};
  if (ec == std::errc::not_a_directory && op == Operation::kChangeDir)
    return {ReplyCode::kFileUnavailable, "Failed to change directory: not a directory."};
  if (ec == std::errc::filename_too_long) return {ReplyCode::kFileNameNotAllowed, "File name too long."};
  if (ec == std::errc::io_error) return {ReplyCode::kLocalError, "Local error in processing."};
  return {ReplyCode::kFileUnavailable, std::string(failed_text(op))};
}

Reply path_error_reply(vfs::PathError e) {
  if (e == vfs::PathError::kTooLong) return {ReplyCode::kBadArgument, "Path too long."};
  if (e == vfs::PathError::kReserved) return {ReplyCode::kFileNameNotAllowed, "File name not allowed."};
  return {ReplyCode::kBadArgument, "Invalid path."};
}

DataErrorMeaning data_error_meaning(DataError e) {
  using obs::DataFailure;
  switch (e) {
    case DataError::kNoPassivePort:
      return {{ReplyCode::kCannotOpenDataConnection, "No passive port available, try again later."},
              DataFailure::kNoPassivePort};
    case DataError::kBindFailed:
      return {{ReplyCode::kCannotOpenDataConnection, "Could not listen for a data connection."},
              DataFailure::kBindFailed};
    case DataError::kNotPrepared:
      return {{ReplyCode::kCannotOpenDataConnection, "Use PORT, EPRT, PASV or EPSV first."}, std::nullopt};
    case DataError::kTimeout:
      return {{ReplyCode::kCannotOpenDataConnection, "Data connection timed out: nothing connected in time."},
              DataFailure::kTimeout};
    case DataError::kConnectFailed:
      return {{ReplyCode::kCannotOpenDataConnection, "Failed to connect to the address given by PORT/EPRT."},
              DataFailure::kConnectFailed};
    case DataError::kAborted:
      return {{ReplyCode::kTransferAborted, "Data connection closed; transfer aborted."}, std::nullopt};
  }
  return {{ReplyCode::kCannotOpenDataConnection, "Cannot open data connection."}, std::nullopt};
}

Reply transfer_aborted_reply() {
  return {ReplyCode::kTransferAborted, "Connection closed; transfer aborted."};
}

Reply transfer_reply(const TransferOutcome& outcome, bool aborted, std::string_view ok_text) {
  if (aborted) return transfer_aborted_reply();
  switch (outcome.status) {
    case TransferStatus::kOk:
      return {ReplyCode::kTransferComplete, std::string(ok_text)};
    case TransferStatus::kNetworkError:
      return {ReplyCode::kTransferAborted, "Data connection failed; transfer aborted."};
    case TransferStatus::kStalled:
      return {ReplyCode::kTransferAborted, "Data connection stalled; transfer aborted."};
    case TransferStatus::kDiskFull:
      if (outcome.error.value() == EDQUOT)
        return {ReplyCode::kExceededStorage, "Quota exceeded; transfer aborted."};
      if (outcome.error.value() == EFBIG)
        return {ReplyCode::kExceededStorage,
                "File too large: exceeded storage allocation; transfer aborted."};
      return {ReplyCode::kInsufficientStorage, "Insufficient storage space; transfer aborted."};
    case TransferStatus::kLocalError:
      break;
  }
  return {ReplyCode::kLocalError, "Local error in processing; transfer aborted."};
}

}  // namespace ftpsd::session
