// PWD CWD CDUP MKD RMD DELE RNFR RNTO SIZE MDTM MFMT MLST: directory and file management.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "session/handlers/handlers.hpp"

namespace ftpsd::session::handlers {
namespace {

// Resolves the argument, runs `op(path)` (an error_code) on the blocking pool, maps the result.
template <class Op>
Task<Reply> path_action(SessionContext& ctx, std::string_view argument, Operation kind, Op op,
                        std::function<Reply(const vfs::VirtualPath&)> ok) {
  auto path = ctx.resolve(argument);
  if (!path) co_return path_error_reply(path.error());
  const auto ec = co_await ctx.blocking([&] { return op(ctx.fs(), *path); });
  if (ec) {
    ctx.log(spdlog::level::info, "fs_error", "{} {} failed: {}", static_cast<int>(kind), path->str(),
            ec.message());
    co_return fs_error_reply(ec, kind);
  }
  co_return ok(*path);
}

Task<Result<protocol::FileInfo, Reply>> stat_path(SessionContext& ctx, std::string_view argument,
                                                  Operation kind) {
  auto path = ctx.resolve(argument);
  if (!path) co_return Unexpected{path_error_reply(path.error())};
  auto info = co_await ctx.blocking([&] { return ctx.fs().stat(*path); });
  if (!info) co_return Unexpected{fs_error_reply(info.error(), kind)};
  co_return std::move(*info);
}

}  // namespace

Task<Reply> pwd(SessionContext& ctx, const Command&) {
  co_return Reply{ReplyCode::kPathCreated,
                  protocol::quote_path(ctx.state.cwd.str()) + " is the current directory"};
}

Task<Reply> cwd(SessionContext& ctx, const Command& cmd) {
  auto path = ctx.resolve(cmd.argument.empty() ? "/" : cmd.argument);
  if (!path) co_return path_error_reply(path.error());
  const bool dir = co_await ctx.blocking([&] { return ctx.fs().is_directory(*path); });
  if (!dir)
    co_return fs_error_reply(std::make_error_code(std::errc::no_such_file_or_directory),
                             Operation::kChangeDir);
  ctx.state.cwd = *path;
  co_return Reply{ReplyCode::kFileActionOk, "Directory successfully changed."};
}

Task<Reply> cdup(SessionContext& ctx, const Command&) {
  co_return co_await cwd(ctx, Command{protocol::Verb::kCwd, ".."});
}

Task<Reply> mkd(SessionContext& ctx, const Command& cmd) {
  co_return co_await path_action(
      ctx, cmd.argument, Operation::kMakeDir,
      [](const vfs::LocalFs& fs, const vfs::VirtualPath& p) { return fs.make_directory(p); },
      [](const vfs::VirtualPath& p) {
        return Reply{ReplyCode::kPathCreated, protocol::quote_path(p.str()) + " created"};
      });
}

Task<Reply> rmd(SessionContext& ctx, const Command& cmd) {
  co_return co_await path_action(
      ctx, cmd.argument, Operation::kRemoveDir,
      [](const vfs::LocalFs& fs, const vfs::VirtualPath& p) { return fs.remove_directory(p); },
      [](const vfs::VirtualPath&) {
        return Reply{ReplyCode::kFileActionOk, "Remove directory operation successful."};
      });
}

Task<Reply> dele(SessionContext& ctx, const Command& cmd) {
  co_return co_await path_action(
      ctx, cmd.argument, Operation::kDelete,
      [](const vfs::LocalFs& fs, const vfs::VirtualPath& p) { return fs.remove_file(p); },
      [](const vfs::VirtualPath&) {
        return Reply{ReplyCode::kFileActionOk, "Delete operation successful."};
      });
}

Task<Reply> rnfr(SessionContext& ctx, const Command& cmd) {
  ctx.state.rename_from.reset();
  auto path = ctx.resolve(cmd.argument);
  if (!path) co_return path_error_reply(path.error());
  if (path->is_root()) co_return Reply{ReplyCode::kFileUnavailable, "Cannot rename the root folder."};
  auto info = co_await ctx.blocking([&] { return ctx.fs().stat(*path); });
  if (!info) co_return fs_error_reply(info.error(), Operation::kRename);
  ctx.state.rename_from = *path;
  co_return Reply{ReplyCode::kPendingFurtherInfo, "Ready for RNTO."};
}

Task<Reply> rnto(SessionContext& ctx, const Command& cmd) {
  if (!ctx.state.rename_from) co_return Reply{ReplyCode::kBadSequence, "RNFR required first."};
  const auto from = *std::exchange(ctx.state.rename_from, std::nullopt);
  co_return co_await path_action(
      ctx, cmd.argument, Operation::kRename,
      [from](const vfs::LocalFs& fs, const vfs::VirtualPath& to) { return fs.rename(from, to); },
      [](const vfs::VirtualPath&) {
        return Reply{ReplyCode::kFileActionOk, "Rename successful."};
      });
}

Task<Reply> size(SessionContext& ctx, const Command& cmd) {
  auto info = co_await stat_path(ctx, cmd.argument, Operation::kStat);
  if (!info) co_return info.error();
  if (info->type != protocol::FileType::kFile)
    co_return Reply{ReplyCode::kFileUnavailable, "Could not get file size."};
  co_return Reply{ReplyCode::kFileStatus, std::to_string(info->size)};
}

Task<Reply> mdtm(SessionContext& ctx, const Command& cmd) {
  auto info = co_await stat_path(ctx, cmd.argument, Operation::kStat);
  if (!info) co_return info.error();
  co_return Reply{ReplyCode::kFileStatus, protocol::format_time_val(info->mtime)};
}

Task<Reply> mfmt(SessionContext& ctx, const Command& cmd) {
  const auto space = cmd.argument.find(' ');
  const auto when = protocol::parse_time_val(std::string_view(cmd.argument).substr(0, space));
  if (!when || space == std::string::npos)
    co_return Reply{ReplyCode::kBadArgument, "Usage: MFMT YYYYMMDDHHMMSS <path>."};
  const std::string target = cmd.argument.substr(space + 1);
  co_return co_await path_action(
      ctx, target, Operation::kSetTime,
      [t = *when](const vfs::LocalFs& fs, const vfs::VirtualPath& p) { return fs.set_mtime(p, t); },
      [&](const vfs::VirtualPath&) {
        return Reply{ReplyCode::kFileStatus,
                     fmt::format("Modify={}; {}", protocol::format_time_val(*when), target)};
      });
}

Task<Reply> mlst(SessionContext& ctx, const Command& cmd) {
  auto path = ctx.resolve(cmd.argument);
  if (!path) co_return path_error_reply(path.error());
  auto info = co_await ctx.blocking([&] { return ctx.fs().stat(*path); });
  if (!info) co_return fs_error_reply(info.error(), Operation::kStat);
  co_return Reply{
      ReplyCode::kFileActionOk,
      std::vector<std::string>{"Listing " + std::string(path->str()),
                               protocol::format_facts(*info, ctx.state.can_write(), ctx.state.mlst_facts) +
                                   std::string(path->str()),
                               "End"}};
}

}  // namespace ftpsd::session::handlers
