#include "session/command_table.hpp"

#include <array>

#include "session/handlers/handlers.hpp"

namespace ftpsd::session {
namespace {

using protocol::Verb;
namespace h = handlers;

constexpr CommandSpec kCommands[] = {
    // Login and session (RFC 959, RFC 7151 HOST)
    {.verb = Verb::kUser,
     .handler = h::user,
     .access = Access::kAnyone,
     .needs_argument = true,
     .sends_credentials = true},
    {.verb = Verb::kPass, .handler = h::pass, .access = Access::kAnyone, .sends_credentials = true},
    {.verb = Verb::kAcct, .handler = h::acct, .access = Access::kAnyone},
    {.verb = Verb::kRein, .handler = h::rein, .access = Access::kAnyone},
    {.verb = Verb::kQuit, .handler = h::quit, .access = Access::kAnyone},
    {.verb = Verb::kHost, .handler = h::host, .access = Access::kAnyone, .needs_argument = true},
    // Security (RFC 2228, RFC 4217)
    {.verb = Verb::kAuth, .handler = h::auth, .access = Access::kAnyone, .needs_argument = true},
    {.verb = Verb::kPbsz, .handler = h::pbsz, .access = Access::kAnyone, .needs_argument = true},
    {.verb = Verb::kProt, .handler = h::prot, .access = Access::kAnyone, .needs_argument = true},
    {.verb = Verb::kCcc, .handler = h::ccc},
    // Information (RFC 959, RFC 2389 FEAT/OPTS)
    {.verb = Verb::kNoop, .handler = h::noop, .access = Access::kAnyone},
    {.verb = Verb::kSyst, .handler = h::syst, .access = Access::kAnyone},
    {.verb = Verb::kFeat, .handler = h::feat, .access = Access::kAnyone},
    {.verb = Verb::kOpts, .handler = h::opts, .access = Access::kAnyone, .needs_argument = true},
    {.verb = Verb::kHelp, .handler = h::help, .access = Access::kAnyone},
    {.verb = Verb::kStat, .handler = h::stat, .during_transfer = true},
    {.verb = Verb::kSite, .handler = h::site, .needs_argument = true},
    // Transfer parameters
    {.verb = Verb::kType, .handler = h::type, .needs_argument = true},
    {.verb = Verb::kMode, .handler = h::mode, .needs_argument = true},
    {.verb = Verb::kStru, .handler = h::stru, .needs_argument = true},
    {.verb = Verb::kAllo, .handler = h::allo},
    {.verb = Verb::kRest, .handler = h::rest, .needs_argument = true},
    {.verb = Verb::kPasv, .handler = h::pasv},
    {.verb = Verb::kEpsv, .handler = h::epsv},
    {.verb = Verb::kPort, .handler = h::port, .needs_argument = true},
    {.verb = Verb::kEprt, .handler = h::eprt, .needs_argument = true},
    // Directories and files (RFC 959, RFC 3659 SIZE/MDTM/MLST, draft MFMT)
    {.verb = Verb::kPwd, .handler = h::pwd},
    {.verb = Verb::kXpwd, .handler = h::pwd},
    {.verb = Verb::kCwd, .handler = h::cwd},
    {.verb = Verb::kXcwd, .handler = h::cwd},
    {.verb = Verb::kCdup, .handler = h::cdup},
    {.verb = Verb::kXcup, .handler = h::cdup},
    {.verb = Verb::kMkd, .handler = h::mkd, .needs_argument = true, .needs_write = true},
    {.verb = Verb::kXmkd, .handler = h::mkd, .needs_argument = true, .needs_write = true},
    {.verb = Verb::kRmd, .handler = h::rmd, .needs_argument = true, .needs_write = true},
    {.verb = Verb::kXrmd, .handler = h::rmd, .needs_argument = true, .needs_write = true},
    {.verb = Verb::kDele, .handler = h::dele, .needs_argument = true, .needs_write = true},
    {.verb = Verb::kRnfr,
     .handler = h::rnfr,
     .needs_argument = true,
     .needs_write = true,
     .keeps_rename = true},
    {.verb = Verb::kRnto,
     .handler = h::rnto,
     .needs_argument = true,
     .needs_write = true,
     .keeps_rename = true},
    {.verb = Verb::kSize, .handler = h::size, .needs_argument = true},
    {.verb = Verb::kMdtm, .handler = h::mdtm, .needs_argument = true},
    {.verb = Verb::kMfmt, .handler = h::mfmt, .needs_argument = true, .needs_write = true},
    {.verb = Verb::kMlst, .handler = h::mlst},
    // Transfers: run as the session's transfer task
    {.verb = Verb::kRetr, .handler = h::retr, .needs_argument = true, .data_transfer = true},
    {.verb = Verb::kStor,
     .handler = h::stor,
     .needs_argument = true,
     .needs_write = true,
     .data_transfer = true},
    {.verb = Verb::kStou, .handler = h::stou, .needs_write = true, .data_transfer = true},
    {.verb = Verb::kAppe,
     .handler = h::appe,
     .needs_argument = true,
     .needs_write = true,
     .data_transfer = true},
    {.verb = Verb::kList, .handler = h::list, .data_transfer = true},
    {.verb = Verb::kNlst, .handler = h::nlst, .data_transfer = true},
    {.verb = Verb::kMlsd, .handler = h::mlsd, .data_transfer = true},
    {.verb = Verb::kAbor, .handler = h::abor, .during_transfer = true},
};

constexpr auto kIndex = [] {
  std::array<const CommandSpec*, static_cast<std::size_t>(Verb::kCount)> index{};
  for (const auto& spec : kCommands) index[static_cast<std::size_t>(spec.verb)] = &spec;
  return index;
}();

}  // namespace

const CommandSpec* find_command(protocol::Verb verb) noexcept {
  return kIndex[static_cast<std::size_t>(verb)];
}

std::vector<std::string_view> implemented_verbs() {
  std::vector<std::string_view> out;
  for (const auto& spec : kCommands) out.push_back(protocol::verb_name(spec.verb));
  return out;
}

}  // namespace ftpsd::session
