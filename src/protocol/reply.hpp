#pragma once
// Replies as typed values; serialize() is the only place that turns them into bytes.
#include <cstdint>
#include <string>
#include <vector>

namespace ftpsd::protocol {

// The reply codes the server sends, each named once (RFC 959 §4.2 unless noted).
enum class ReplyCode : std::uint16_t {
  kNone = 0,  // no reply (the handler already answered, e.g. a transfer task)
  kRestartMarker = 110,
  kServiceReadyIn = 120,
  kDataAlreadyOpen = 125,
  kFileStatusOk = 150,
  kOk = 200,
  kNotImplementedSuperfluous = 202,
  kSystemStatus = 211,
  kDirectoryStatus = 212,
  kFileStatus = 213,  // also SIZE/MDTM (RFC 3659)
  kHelp = 214,
  kSystemType = 215,
  kServiceReady = 220,
  kClosing = 221,
  kNoTransferToAbort = 225,
  kTransferComplete = 226,
  kEnteringPassive = 227,
  kEnteringExtendedPassive = 229,  // RFC 2428
  kLoggedIn = 230,
  kLoggedInBySecurityData = 232,  // RFC 2228
  kSecurityExchangeOk = 234,      // RFC 2228 AUTH
  kFileActionOk = 250,
  kPathCreated = 257,
  kNeedPassword = 331,
  kNeedSecurityData = 334,
  kPendingFurtherInfo = 350,
  kServiceUnavailable = 421,
  kCannotOpenDataConnection = 425,
  kTransferAborted = 426,
  kFileBusy = 450,
  kLocalError = 451,
  kInsufficientStorage = 452,
  kSyntaxError = 500,
  kBadArgument = 501,
  kNotImplemented = 502,
  kBadSequence = 503,
  kNotImplementedForParameter = 504,
  kProtectionLevelDenied = 521,        // RFC 4217: PROT P required
  kNetworkProtocolNotSupported = 522,  // RFC 2428 EPRT/EPSV; RFC 4217 TLS required on data
  kNotLoggedIn = 530,
  kPolicyRequiresSecurity = 534,       // RFC 2228
  kProtectionLevelNotSupported = 536,  // RFC 2228
  kFileUnavailable = 550,
  kPageTypeUnknown = 551,
  kExceededStorage = 552,
  kFileNameNotAllowed = 553,
  kInvalidRestart = 554,  // RFC 1123 §4.1.3.4 / RFC 3659 §5.5
};

enum class AfterReply : std::uint8_t { kNone, kClose, kUpgradeToTls, kDowngradeToClear };

struct Reply {
  ReplyCode code = ReplyCode::kNone;
  std::vector<std::string> lines;  // one element for a single-line reply
  AfterReply after = AfterReply::kNone;

  Reply() = default;
  Reply(ReplyCode c, std::string text, AfterReply a = AfterReply::kNone)
      : code(c), lines{std::move(text)}, after(a) {}
  Reply(ReplyCode c, std::vector<std::string> text, AfterReply a = AfterReply::kNone)
      : code(c), lines(std::move(text)), after(a) {}

  [[nodiscard]] bool empty() const noexcept { return code == ReplyCode::kNone; }
  [[nodiscard]] int number() const noexcept { return static_cast<int>(code); }
};

// RFC 959 §4.2: single line "ddd text"; multi-line "ddd-first", the middle lines each starting with a
// space (so a line can never be mistaken for the end, RFC 2389 FEAT form), and "ddd last".
// CR and LF inside a text are replaced by spaces; CRLF ends every line.
[[nodiscard]] std::string serialize(const Reply& reply);

// RFC 959 quoting of a path inside 257 replies: a double quote is doubled.
[[nodiscard]] std::string quote_path(std::string_view path);

}  // namespace ftpsd::protocol
