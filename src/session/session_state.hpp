#pragma once
// The typed state of one FTP session (RFC 959 sequencing). Pending state is optional and cleared by
// the dispatcher, not by each handler.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "auth/user.hpp"
#include "net/connection_limiter.hpp"
#include "protocol/listing.hpp"
#include "vfs/local_fs.hpp"
#include "vfs/virtual_path.hpp"

namespace ftpsd::session {

enum class LoginPhase : std::uint8_t { kAwaitingUser, kAwaitingPassword, kLoggedIn };
enum class TransferType : std::uint8_t { kBinary, kAscii };
enum class DataProtection : std::uint8_t { kClear, kPrivate };  // PROT C / PROT P (RFC 4217 §9)

struct SessionState {
  LoginPhase phase = LoginPhase::kAwaitingUser;
  std::string user_name;                   // as given in USER
  std::shared_ptr<const auth::User> user;  // set at login (shares the users snapshot: no copy)
  std::shared_ptr<const vfs::LocalFs> fs;  // the user's root; set at login
  net::KeyedCounter::Lease user_slot;      // counts this session against the user's session limit
  vfs::VirtualPath cwd;
  std::optional<vfs::VirtualPath> rename_from;  // RNFR -> RNTO
  std::uint64_t restart_offset = 0;             // REST; reset after every transfer command
  TransferType type = TransferType::kBinary;
  bool epsv_all = false;  // RFC 2428 §4: after EPSV ALL only EPSV sets up data connections
  std::string host;       // HOST (RFC 7151)
  std::uint32_t failed_logins = 0;
  bool pbsz = false;  // RFC 4217 §8: PBSZ 0 before PROT
  DataProtection protection = DataProtection::kClear;
  protocol::FactSet mlst_facts = protocol::kAllFacts;  // OPTS MLST: the facts MLST and MLSD send

  [[nodiscard]] bool logged_in() const noexcept { return phase == LoginPhase::kLoggedIn; }
  [[nodiscard]] bool can_write() const noexcept { return user && user->write && !user->anonymous; }
};

}  // namespace ftpsd::session
