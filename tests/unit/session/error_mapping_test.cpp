// errno -> FTP reply: storage errors have replies of their own, the rest stays bland.
#include "session/error_mapping.hpp"

#include <gtest/gtest.h>

#include <cerrno>

using namespace ftpsd::session;
using ftpsd::protocol::ReplyCode;

namespace {
std::error_code sys(int e) {
  return {e, std::system_category()};
}
}  // namespace

TEST(ErrorMapping, StorageErrorsOfFileOperations) {
  EXPECT_EQ(fs_error_reply(sys(ENOSPC), Operation::kOpenWrite).code, ReplyCode::kInsufficientStorage);
  EXPECT_EQ(fs_error_reply(sys(EDQUOT), Operation::kOpenWrite).code, ReplyCode::kExceededStorage);
  EXPECT_EQ(fs_error_reply(sys(EFBIG), Operation::kOpenWrite).code, ReplyCode::kExceededStorage);
  EXPECT_EQ(fs_error_reply(std::make_error_code(std::errc::no_space_on_device), Operation::kMakeDir).code,
            ReplyCode::kInsufficientStorage);
  EXPECT_EQ(static_cast<int>(ReplyCode::kInsufficientStorage), 452);
  EXPECT_EQ(static_cast<int>(ReplyCode::kExceededStorage), 552);
}

TEST(ErrorMapping, OtherErrorsAreBland) {
  const auto denied = fs_error_reply(sys(EACCES), Operation::kOpenWrite);
  const auto outside = fs_error_reply(sys(EXDEV), Operation::kOpenWrite);
  EXPECT_EQ(denied.code, ReplyCode::kFileUnavailable);
  EXPECT_EQ(denied.lines, outside.lines);
  EXPECT_EQ(fs_error_reply(sys(EIO), Operation::kOpenWrite).code, ReplyCode::kLocalError);
}

TEST(ErrorMapping, TransfersEndingOnFullStorage) {
  EXPECT_TRUE(is_storage_full(sys(ENOSPC)));
  EXPECT_TRUE(is_storage_full(sys(EDQUOT)));
  EXPECT_TRUE(is_storage_full(sys(EFBIG)));
  EXPECT_TRUE(is_storage_full(std::make_error_code(std::errc::file_too_large)));
  EXPECT_FALSE(is_storage_full(sys(EIO)));
  EXPECT_FALSE(is_storage_full(std::make_error_code(std::io_errc::stream)));
  auto reply = [](int e) {
    return transfer_reply({TransferStatus::kDiskFull, sys(e), 10}, false, "ok").code;
  };
  EXPECT_EQ(reply(ENOSPC), ReplyCode::kInsufficientStorage);
  EXPECT_EQ(reply(EDQUOT), ReplyCode::kExceededStorage);
  EXPECT_EQ(reply(EFBIG), ReplyCode::kExceededStorage);
  EXPECT_EQ(transfer_reply({TransferStatus::kLocalError, sys(EIO), 10}, false, "ok").code,
            ReplyCode::kLocalError);
  EXPECT_EQ(transfer_reply({TransferStatus::kOk, {}, 10}, false, "ok").code, ReplyCode::kTransferComplete);
  // ABOR wins over anything the transfer reported.
  EXPECT_EQ(transfer_reply({TransferStatus::kDiskFull, sys(ENOSPC), 10}, true, "ok").code,
            ReplyCode::kTransferAborted);
}

TEST(ErrorMapping, ReservedNamesAreNotAllowed) {
  EXPECT_EQ(path_error_reply(ftpsd::vfs::PathError::kReserved).code, ReplyCode::kFileNameNotAllowed);
}

TEST(ErrorMapping, LocalFailuresOfTransfers) {
  EXPECT_EQ(local_failure(sys(ENOSPC), 7).status, TransferStatus::kDiskFull);
  EXPECT_EQ(local_failure(sys(EDQUOT), 7).status, TransferStatus::kDiskFull);
  const auto io = local_failure(sys(EIO), 7);
  EXPECT_EQ(io.status, TransferStatus::kLocalError);
  EXPECT_EQ(io.error, sys(EIO));
  EXPECT_EQ(io.bytes, 7u);
}

// Each data-connection error gives one reply and, when a connection failed, one metric cause.
TEST(ErrorMapping, DataErrorsMapToOneReplyAndOneMetricCause) {
  using ftpsd::obs::DataFailure;
  const std::pair<DataError, std::optional<DataFailure>> expected[] = {
      {DataError::kNoPassivePort, DataFailure::kNoPassivePort},
      {DataError::kBindFailed, DataFailure::kBindFailed},
      {DataError::kTimeout, DataFailure::kTimeout},
      {DataError::kConnectFailed, DataFailure::kConnectFailed},
      {DataError::kNotPrepared, std::nullopt},
      {DataError::kAborted, std::nullopt}};
  for (const auto& [error, failure] : expected) {
    const auto meaning = data_error_meaning(error);
    EXPECT_EQ(meaning.failure, failure) << static_cast<int>(error);
    EXPECT_EQ(meaning.reply.lines, data_error_reply(error).lines);
    EXPECT_EQ(meaning.reply.code, error == DataError::kAborted ? ReplyCode::kTransferAborted
                                                               : ReplyCode::kCannotOpenDataConnection);
  }
}
