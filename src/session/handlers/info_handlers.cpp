// NOOP SYST FEAT OPTS HELP STAT SITE and the transfer parameters TYPE MODE STRU ALLO REST.
#include <fmt/format.h>

#include <charconv>

#include "session/command_table.hpp"
#include "session/handlers/handlers.hpp"
#include "util/text.hpp"

namespace ftpsd::session::handlers {
namespace {

Task<Reply> site_chmod(SessionContext& ctx, std::string_view args) {
  const auto space = args.find(' ');
  if (space == std::string_view::npos)
    co_return Reply{ReplyCode::kBadArgument, "Usage: SITE CHMOD <mode> <path>."};
  unsigned mode = 0;
  const auto m = args.substr(0, space);
  auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), mode, 8);
  if (ec != std::errc{} || p != m.data() + m.size() || mode > 07777)
    co_return Reply{ReplyCode::kBadArgument, "SITE CHMOD: the mode must be octal, e.g. 644."};
  if (!ctx.state.can_write()) co_return Reply{ReplyCode::kFileUnavailable, "Permission denied."};
  auto path = ctx.resolve(args.substr(space + 1));
  if (!path) co_return path_error_reply(path.error());
  // SECURITY: setuid, setgid and sticky bits are never set by a client.
  const auto ec2 =
      co_await ctx.blocking([&] { return ctx.fs().chmod(*path, static_cast<mode_t>(mode & 0777)); });
  if (ec2) co_return fs_error_reply(ec2, Operation::kChmod);
  co_return Reply{ReplyCode::kOk, "SITE CHMOD command ok."};
}

}  // namespace

Task<Reply> noop(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kOk, "NOOP ok."};
}

Task<Reply> syst(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kSystemType, "UNIX Type: L8"};
}

Task<Reply> feat(SessionContext& ctx, const Command&) {
  std::vector<std::string> lines = {"Features:"};
  if (ctx.tls.configured() && ctx.listener.tls == config::TlsMode::kExplicit) lines.emplace_back("AUTH TLS");
  if (ctx.tls.configured() && ctx.listener.tls != config::TlsMode::kNone) {
    lines.emplace_back("PBSZ");
    lines.emplace_back("PROT");
    if (ctx.config->tls.allow_ccc) lines.emplace_back("CCC");
  }
  for (const char* f : {"EPRT", "EPSV", "HOST", "MDTM", "MFMT"}) lines.emplace_back(f);
  // RFC 3659 §7.8: every fact, a '*' after the ones MLST and MLSD send now.
  lines.push_back("MLST " + protocol::fact_names(ctx.state.mlst_facts, true));
  for (const char* f : {"PASV", "REST STREAM", "SIZE", "TVFS", "UTF8"}) lines.emplace_back(f);
  lines.emplace_back("End");
  co_return Reply{ReplyCode::kSystemStatus, std::move(lines)};
}

Task<Reply> opts(SessionContext& ctx, const Command& cmd) {
  const std::string arg = ascii_upper(cmd.argument);
  if (arg == "UTF8 ON" || arg == "UTF8" || arg == "UTF-8 ON")
    co_return Reply{ReplyCode::kOk, "Always in UTF8 mode."};
  if (arg == "UTF8 OFF")
    co_return Reply{ReplyCode::kNotImplementedForParameter, "UTF8 cannot be turned off."};
  if (arg == "MLST" || arg.starts_with("MLST ")) {
    // RFC 3659 §7.9: the facts MLST and MLSD send from now on, in this session; the reply names them.
    const auto facts =
        protocol::parse_fact_list(std::string_view(cmd.argument).substr(arg.size() > 4 ? 5 : 4));
    if (!facts) co_return Reply{ReplyCode::kBadArgument, "Invalid MLST options: facts are separated by ';'."};
    ctx.state.mlst_facts = *facts;
    const std::string names = protocol::fact_names(*facts);
    co_return Reply{ReplyCode::kOk, names.empty() ? "MLST OPTS" : "MLST OPTS " + names};
  }
  co_return Reply{ReplyCode::kBadArgument, "Option not understood."};
}

Task<Reply> help(SessionContext&, const Command& cmd) {
  if (!cmd.argument.empty()) {
    const auto parsed = protocol::parse_command(cmd.argument);
    if (!parsed || find_command(parsed->verb) == nullptr)
      co_return Reply{ReplyCode::kBadArgument, "Unknown command " + ascii_upper(cmd.argument) + "."};
    co_return Reply{ReplyCode::kHelp, fmt::format("{} is supported; see RFC 959 and the ftpsd README.",
                                                  protocol::verb_name(parsed->verb))};
  }
  std::vector<std::string> lines = {"The following commands are recognized."};
  std::string row;
  for (auto verb : implemented_verbs()) {
    row += fmt::format("{:<5}", verb);
    if (row.size() >= 5 * 14) lines.push_back(std::exchange(row, {}));
  }
  if (!row.empty()) lines.push_back(row);
  lines.emplace_back("Help OK.");
  co_return Reply{ReplyCode::kHelp, std::move(lines)};
}

Task<Reply> stat(SessionContext& ctx, const Command& cmd) {
  if (!cmd.argument.empty()) {
    if (ctx.transfer.active())
      co_return Reply{ReplyCode::kBadSequence, "STAT <path> is not available during a transfer."};
    auto lines = co_await listing_lines(ctx, cmd.argument, ListFormat::kLong);
    if (!lines) co_return lines.error();
    lines->insert(lines->begin(), "Status of " + cmd.argument + ":");
    lines->emplace_back("End of status.");
    co_return Reply{ReplyCode::kFileStatus, std::move(*lines)};
  }
  std::vector<std::string> lines = {"ftpsd status:"};
  lines.push_back("Connected to " + ctx.peer.to_string());
  lines.push_back("Logged in as " + ctx.state.user_name);
  lines.emplace_back(ctx.state.type == TransferType::kAscii ? "TYPE: ASCII" : "TYPE: BINARY");
  lines.push_back("Control connection: " + tls::SessionBinding::describe(ctx.control.stream()));
  lines.push_back(std::string("Data protection: ") +
                  (ctx.state.protection == DataProtection::kPrivate ? "PROT P (TLS)" : "PROT C (clear)"));
  if (!ctx.data_link.last_tls().empty()) lines.push_back("Last data connection: " + ctx.data_link.last_tls());
  if (const auto progress = ctx.transfer.progress()) {
    const std::uint64_t total = progress->total.load(std::memory_order_relaxed);
    lines.push_back(fmt::format("Transfer in progress: {}, {} bytes transferred{}", progress->description,
                                progress->bytes.load(std::memory_order_relaxed),
                                total ? fmt::format(" of {}", total) : ""));
  } else if (ctx.transfer.active()) {  // between its 150 and its first byte
    lines.emplace_back("Transfer in progress: TLS handshake on the data connection");
  } else {
    lines.emplace_back("No data connection");
  }
  lines.emplace_back("End of status.");
  co_return Reply{ReplyCode::kSystemStatus, std::move(lines)};
}

Task<Reply> site(SessionContext& ctx, const Command& cmd) {
  const auto space = cmd.argument.find(' ');
  const std::string sub = ascii_upper(cmd.argument.substr(0, space));
  if (sub == "HELP")
    co_return Reply{ReplyCode::kHelp, std::vector<std::string>{"SITE commands:", "CHMOD HELP", "End."}};
  if (sub == "CHMOD")
    co_return co_await site_chmod(
        ctx, space == std::string::npos ? "" : std::string_view(cmd.argument).substr(space + 1));
  co_return Reply{ReplyCode::kBadArgument, "Unknown SITE command."};
}

Task<Reply> type(SessionContext& ctx, const Command& cmd) {
  const std::string arg = ascii_upper(cmd.argument);
  if (arg == "A" || arg == "A N") {
    ctx.state.type = TransferType::kAscii;
    co_return Reply{ReplyCode::kOk, "Switching to ASCII mode."};
  }
  if (arg == "I" || arg == "L 8" || arg == "L8") {
    ctx.state.type = TransferType::kBinary;
    co_return Reply{ReplyCode::kOk, "Switching to Binary mode."};
  }
  co_return Reply{ReplyCode::kNotImplementedForParameter, "Unsupported TYPE: use A or I."};
}

Task<Reply> mode(SessionContext&, const Command& cmd) {
  if (ascii_upper(cmd.argument) == "S") co_return Reply{ReplyCode::kOk, "Mode set to S."};
  co_return Reply{ReplyCode::kNotImplementedForParameter, "Only MODE S (stream) is supported."};
}

Task<Reply> stru(SessionContext&, const Command& cmd) {
  if (ascii_upper(cmd.argument) == "F") co_return Reply{ReplyCode::kOk, "Structure set to F."};
  co_return Reply{ReplyCode::kNotImplementedForParameter, "Only STRU F (file) is supported."};
}

Task<Reply> allo(SessionContext&, const Command&) {
  co_return Reply{ReplyCode::kNotImplementedSuperfluous, "ALLO command ignored."};
}

Task<Reply> rest(SessionContext& ctx, const Command& cmd) {
  std::uint64_t offset = 0;
  const auto& a = cmd.argument;
  auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), offset);
  if (ec != std::errc{} || p != a.data() + a.size())
    co_return Reply{ReplyCode::kBadArgument, "REST needs a byte offset."};
  ctx.state.restart_offset = offset;
  co_return Reply{ReplyCode::kPendingFurtherInfo, fmt::format("Restart position accepted ({}).", offset)};
}

}  // namespace ftpsd::session::handlers
