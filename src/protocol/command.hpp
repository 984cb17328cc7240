#pragma once
// FTP commands as typed values. Pure: no I/O, no session state.
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ftpsd::protocol {

// Every verb the server knows (RFC 959, 2228, 2389, 2428, 3659, 4217, 7151 and the X- aliases of RFC 775).
// clang-format off
#define FTPSD_VERBS(X) \
  X(User, "USER") \
  X(Pass, "PASS") \
  X(Acct, "ACCT") \
  X(Quit, "QUIT") \
  X(Rein, "REIN") \
  X(Noop, "NOOP") \
  X(Syst, "SYST") \
  X(Feat, "FEAT") \
  X(Opts, "OPTS") \
  X(Help, "HELP") \
  X(Stat, "STAT") \
  X(Site, "SITE") \
  X(Pwd, "PWD") \
  X(Xpwd, "XPWD") \
  X(Cwd, "CWD") \
  X(Xcwd, "XCWD") \
  X(Cdup, "CDUP") \
  X(Xcup, "XCUP") \
  X(Mkd, "MKD") \
  X(Xmkd, "XMKD") \
  X(Rmd, "RMD") \
  X(Xrmd, "XRMD") \
  X(Dele, "DELE") \
  X(Rnfr, "RNFR") \
  X(Rnto, "RNTO") \
  X(Size, "SIZE") \
  X(Mdtm, "MDTM") \
  X(Mfmt, "MFMT") \
  X(Type, "TYPE") \
  X(Mode, "MODE") \
  X(Stru, "STRU") \
  X(Allo, "ALLO") \
  X(Rest, "REST") \
  X(Retr, "RETR") \
  X(Stor, "STOR") \
  X(Stou, "STOU") \
  X(Appe, "APPE") \
  X(List, "LIST") \
  X(Nlst, "NLST") \
  X(Mlsd, "MLSD") \
  X(Mlst, "MLST") \
  X(Abor, "ABOR") \
  X(Pasv, "PASV") \
  X(Epsv, "EPSV") \
  X(Port, "PORT") \
  X(Eprt, "EPRT") \
  X(Host, "HOST") \
  X(Auth, "AUTH") \
  X(Pbsz, "PBSZ") \
  X(Prot, "PROT") \
  X(Ccc, "CCC") \
  X(Adat, "ADAT") \
  X(Mic, "MIC") \
  X(Conf, "CONF") \
  X(Enc, "ENC")
// clang-format on

enum class Verb : std::uint8_t {
#define FTPSD_VERB_ENUM(name, text) k##name,
  FTPSD_VERBS(FTPSD_VERB_ENUM)
#undef FTPSD_VERB_ENUM
      kCount
};

[[nodiscard]] std::string_view verb_name(Verb v) noexcept;

struct Command {
  Verb verb;
  std::string argument;  // owned: survives co_await; never a view into the read buffer
};

enum class ParseError : std::uint8_t {
  kEmpty,             // blank line
  kUnknownVerb,       // 500
  kControlCharacter,  // NUL or another control character in the argument: 501
};

// Parses one command line without its CRLF. The verb is case-insensitive; the argument is everything
// after the first space, kept byte for byte (file names may start or end with spaces).
// The caller bounds line.size() to limits::kMaxCommandLine.
[[nodiscard]] Result<Command, ParseError> parse_command(std::string_view line);

// Splits the verb for error messages ("XYZZ" for an unknown verb), upper-cased, at most 16 bytes.
[[nodiscard]] std::string verb_of(std::string_view line);

}  // namespace ftpsd::protocol
