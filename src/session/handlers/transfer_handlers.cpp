// RETR STOR STOU APPE LIST NLST MLSD ABOR. Each runs as the session's transfer task: the dispatcher
// has checked login, permissions and that a data connection was prepared; exactly one final reply.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "obs/metrics.hpp"
#include "runtime/timeout.hpp"
#include "session/handlers/handlers.hpp"
#include "sys/syscalls.hpp"

namespace ftpsd::session::handlers {
namespace {

using Clock = std::chrono::steady_clock;

enum class Direction : std::uint8_t { kSend, kReceive };

// The stricter of the domain's limit (limits.*_rate, one bucket for all its sessions) and the user's own
// (per session) applies: both buckets are drawn from.
Throttle throttle(SessionContext& ctx, Direction direction) {
  const bool down = direction == Direction::kSend;
  const std::uint64_t own =
      ctx.state.user ? (down ? ctx.state.user->download_rate : ctx.state.user->upload_rate) : 0;
  return {.shared = down ? &ctx.domain_state->download_limit : &ctx.domain_state->upload_limit,
          .shared_rate = down ? ctx.config->limits.download_rate : ctx.config->limits.upload_rate,
          .own = own != 0 ? std::make_shared<net::RateLimiter>() : nullptr,
          .own_rate = own};
}

TransferOptions options(SessionContext& ctx, std::uint64_t offset, Direction direction) {
  return {.ascii = ctx.state.type == TransferType::kAscii,
          .offset = offset,
          .throttle = throttle(ctx, direction)};
}

// The session log's transfer line and, for files (not listings), the xferlog line.
void log_transfer(const SessionContext& ctx, std::string_view verb, std::string_view path,
                  Direction direction, const TransferOutcome& outcome, Clock::time_point start,
                  const Reply& reply) {
  const auto elapsed = Clock::now() - start;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  const std::string error = outcome.error ? outcome.error.message() : std::string();
  if (spdlog::should_log(spdlog::level::info)) {
    const auto message =
        fmt::format("transfer {} {} bytes={} duration={}ms result={}{}", verb, path, outcome.bytes, ms,
                    reply.number(), error.empty() ? "" : " error=" + error);
    ctx.log_fields(spdlog::level::info, "transfer", message,
                   {{"verb", verb},
                    {"path", path},
                    {"direction", direction == Direction::kSend ? "out" : "in"},
                    {"bytes", static_cast<std::int64_t>(outcome.bytes)},
                    {"duration_ms", static_cast<std::int64_t>(ms)},
                    {"result", static_cast<std::int64_t>(reply.number())},
                    {"error", error}});
  }
  if (verb == "LIST" || verb == "NLST" || verb == "MLSD" || !ctx.state.user) return;
  obs::metrics().transfer(direction == Direction::kSend ? obs::Direction::kOut : obs::Direction::kIn,
                          reply.code == ReplyCode::kTransferComplete, outcome.bytes, elapsed);
  (direction == Direction::kSend ? ctx.domain_state->bytes_sent : ctx.domain_state->bytes_received)
      .fetch_add(outcome.bytes, std::memory_order_relaxed);
  const auto& user = *ctx.state.user;
  const bool in_default = ctx.domain_name() == "default";
  obs::write_xferlog({.end = std::chrono::system_clock::now(),
                      .duration = elapsed,
                      .remote_host = ctx.peer.to_string(),
                      .bytes = outcome.bytes,
                      .filename = (user.root / std::string(path).substr(1)).string(),
                      .ascii = ctx.state.type == TransferType::kAscii,
                      .incoming = direction == Direction::kReceive,
                      .anonymous = user.anonymous,
                      .user = in_default ? user.name : user.name + "@" + ctx.domain_name(),
                      .complete = reply.code == ReplyCode::kTransferComplete});
}

// Runs one transfer: opens the data connection, sends the 150, secures the connection for PROT P,
// runs `body(data, progress)`, and builds the final reply. The part every transfer command shares (the
// data connection and the progress in the TransferSlot, for ABOR, STAT and the session registry; the
// final reply; the transfer log line).
template <class Body>
Task<Reply> run_transfer(SessionContext& ctx, std::string_view verb, std::string_view path, Reply opening,
                         std::uint64_t total, Direction direction, Body body,
                         std::string_view ok_text = "Transfer complete.") {
  auto stream = co_await ctx.data_link.open();
  if (!stream) co_return stream.error();
  co_await ctx.preliminary(opening);
  ctx.transfer.connected(*stream);
  if (ctx.state.protection == DataProtection::kPrivate) {
    // After the 150, as clients expect: several start their TLS handshake only once they have it.
    auto secured = co_await ctx.data_link.secure(*stream);
    if (!secured) {
      ctx.transfer.stop();
      // Refused after a completed handshake (session reuse): a clean end of an empty stream, so that
      // the client reads the reply that says why.
      if (ctx.transfer.aborted())
        stream->close();
      else
        co_await ctx.data_link.close(*stream, tls::kPeerCloseWait);
      co_return ctx.transfer.aborted() ? transfer_aborted_reply() : secured.error();
    }
  }
  auto& progress =
      ctx.transfer.start(fmt::format("{} {}", verb, path), total, ctx.config->server.data_timeout);
  ctx.live->transfer_started(std::string(verb), std::string(path), ctx.transfer.progress());
  const auto start = Clock::now();
  TransferOutcome outcome = co_await body(*stream, progress);
  ctx.transfer.stop();
  // The slot closed a connection where nothing moved for server.data_timeout: the loop saw it fail.
  if (ctx.transfer.stalled() && outcome.status == TransferStatus::kNetworkError)
    outcome = {TransferStatus::kStalled, std::make_error_code(std::errc::timed_out), outcome.bytes};
  const bool secure = stream->secure();
  // TLS closure (RFC 8446 §6.1) after a transfer that ended in order, a local error included (the
  // reply tells what went wrong): our close_notify marks the end of what we sent (a download's last
  // piece leaves with it) and answers an upload's. Once it is out, the final reply follows at once:
  // clients such as ftplib unwrap() the data connection before they read it. An aborted, broken or
  // stalled connection is only closed.
  const bool broken =
      outcome.status == TransferStatus::kNetworkError || outcome.status == TransferStatus::kStalled;
  if (secure && !broken && !ctx.transfer.aborted()) {
    const Duration bound =
        direction == Direction::kSend ? ctx.config->server.data_timeout : tls::kPeerCloseWait;
    if (auto ec = co_await ctx.data_link.close(*stream, bound);
        ec && direction == Direction::kSend && outcome.status == TransferStatus::kOk)
      outcome = {TransferStatus::kNetworkError, ec, outcome.bytes};
  } else {
    stream->close();
  }
  if (secure) {
    // A fresh ticket on the control connection for clients that resume the newest one (TLS 1.3).
    tls::SessionBinding::issue_ticket(ctx.control.stream());
  }
  Reply reply = transfer_reply(outcome, ctx.transfer.aborted(), ok_text);
  log_transfer(ctx, verb, path, direction, outcome, start, reply);
  co_return reply;
}

std::string mode_name(const SessionContext& ctx) {
  return ctx.state.type == TransferType::kAscii ? "ASCII" : "BINARY";
}

// What an upload writes to: the target itself (in place), or a hidden temporary that is renamed over
// the target once the whole upload is on the disk (storage.atomic_uploads).
struct UploadTarget {
  sys::UniqueFd in_place;
  bool created = false;  // in place: this upload created the file
  std::optional<vfs::PendingUpload> pending;
  [[nodiscard]] int fd() const { return pending ? pending->fd() : in_place.get(); }
};

// REST n with n beyond the end of the file (RETR; uploads too: a gap of zeros is not a resume).
Reply restart_beyond_end(std::uint64_t offset, std::uint64_t size) {
  return {ReplyCode::kInvalidRestart,
          fmt::format("Restart offset {} is beyond the end of the file ({} bytes).", offset, size)};
}

Task<Reply> upload(SessionContext& ctx, std::string_view verb, const vfs::VirtualPath& path,
                   vfs::WriteMode mode, std::string opening_text,
                   std::string_view ok_text = "Transfer complete.") {
  // REST n: the data goes at byte n, for APPE as for STOR (O_APPEND would put it at the end), and n
  // may not lie beyond the end of the file (a gap of zeros is not a resume).
  const std::uint64_t offset = mode == vfs::WriteMode::kCreateNew ? 0 : ctx.state.restart_offset;
  if (offset > 0) {
    mode = vfs::WriteMode::kTruncate;
    auto info = co_await ctx.blocking([&] { return ctx.fs().stat(path); });
    if (!info && info.error() != std::errc::no_such_file_or_directory)
      co_return fs_error_reply(info.error(), Operation::kOpenWrite);
    if (const std::uint64_t size = info ? info->size : 0; offset > size)
      co_return restart_beyond_end(offset, size);
  }
  const config::StorageConfig storage = ctx.config->storage;
  // A resume (REST n, APPE) continues the file in place: that is what resuming is.
  const bool atomic = storage.atomic_uploads && offset == 0 && mode != vfs::WriteMode::kAppend;
  auto target = co_await ctx.blocking([&]() -> Result<UploadTarget> {
    UploadTarget t;
    if (atomic) {
      auto pending = ctx.fs().create_upload(path, mode == vfs::WriteMode::kCreateNew);
      if (pending) {
        t.pending.emplace(std::move(*pending));
        return t;
      }
      // A symlink at the target is written through, in place, as without atomic uploads.
      if (pending.error() != std::errc::too_many_symbolic_link_levels) return Unexpected{pending.error()};
    }
    auto fd = ctx.fs().open_write(path, mode, &t.created);
    if (!fd) return Unexpected{fd.error()};
    t.in_place = std::move(*fd);
    return t;
  });
  if (!target) co_return fs_error_reply(target.error(), Operation::kOpenWrite);
  bool started = false;
  bool committed = false;
  Reply reply = co_await run_transfer(
      ctx, verb, path.str(), Reply{ReplyCode::kFileStatusOk, std::move(opening_text)}, 0, Direction::kReceive,
      [&](tls::Stream& data, TransferProgress& progress) -> Task<TransferOutcome> {
        started = true;
        const int fd = target->fd();
        // In place, the old content goes only once the data connection is there: a refused transfer
        // keeps it.
        if (!target->pending && mode == vfs::WriteMode::kTruncate) {
          if (auto ec = co_await ctx.blocking([&] { return sys::ftruncate(fd, offset); }))
            co_return local_failure(ec, 0);
        }
        auto opts = options(ctx, offset, Direction::kReceive);
        opts.durable = storage.fsync;
        // 226 means the data is on the disk: flushed, then (atomic) renamed over the target and the
        // folder flushed. An ABOR that came meanwhile keeps the old file. On the worker pool, in the
        // same hop as the last write.
        auto finish = [&]() -> std::error_code {
          if (storage.fsync) {
            if (auto ec = sys::fsync(fd)) return ec;
          }
          if (target->pending && !ctx.transfer.aborted()) {
            if (auto ec = target->pending->commit(storage.fsync)) return ec;
            committed = true;
          }
          return {};
        };
        // Once the data has come, the flush and the rename move no byte: no stall timer for them.
        co_return co_await receive_file(data, fd, std::move(opts), ctx.services.blocking, progress, finish,
                                        [&] { ctx.transfer.stop(); });
      },
      ok_text);
  if (target->pending && !committed) {
    // A failed, aborted or refused upload: the temporary goes, the target was never touched.
    co_await ctx.blocking([&] { target->pending->discard(); });
  } else if (target->created && !started) {
    // In place: a transfer that never started leaves no empty file behind.
    co_await ctx.blocking([&] { (void)ctx.fs().remove_file(path); });
  }
  co_return reply;
}

// What a listing's argument names, decided before the data connection opens (errors are replied
// instead of a 150): one entry (a file), or a directory to read, with a glob over its names.
struct ListingPlan {
  std::optional<std::string> single_line;  // a file: its one line, without CRLF
  std::shared_ptr<ListingJob> job;         // a directory
};

Task<Result<ListingPlan, Reply>> plan_listing(SessionContext& ctx, std::string_view argument,
                                              ListFormat format) {
  const std::string path_arg =
      format == ListFormat::kMlsd ? std::string(argument) : protocol::parse_list_argument(argument).path;
  auto path = ctx.resolve(path_arg);
  if (!path) co_return Unexpected{path_error_reply(path.error())};
  const bool writable = ctx.state.can_write();
  const protocol::FactSet facts = ctx.state.mlst_facts;
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  co_return co_await ctx.blocking([&, fs = ctx.state.fs]() -> Result<ListingPlan, Reply> {
    vfs::VirtualPath dir = *path;
    std::string pattern;
    auto target = fs->stat(*path);
    if (!target && format != ListFormat::kMlsd && protocol::has_glob(path->name())) {
      dir = path->parent();
      pattern = path->name();
    } else if (!target) {
      return Unexpected{fs_error_reply(target.error(), Operation::kList)};
    } else if (target->type != protocol::FileType::kDirectory) {
      if (format == ListFormat::kMlsd)
        return Unexpected{Reply{ReplyCode::kFileUnavailable, "MLSD needs a directory; use MLST for a file."}};
      protocol::ListFormatter formatter(now, writable, facts);
      std::string line;
      append_listing_line(line, formatter, format, *target,
                          format == ListFormat::kNames ? path_arg : std::string(path->name()));
      return ListingPlan{.single_line = std::move(line)};
    }
    auto opened = fs->open_listing(dir);
    if (!opened) return Unexpected{fs_error_reply(opened.error(), Operation::kList)};
    auto job = std::make_shared<ListingJob>(fs, std::move(*opened));
    job->pattern = std::move(pattern);
    job->format = format;
    job->writable = writable;
    job->facts = facts;
    job->now = now;
    return ListingPlan{.job = std::move(job)};
  });
}

Reply no_match_reply() {
  return fs_error_reply(std::make_error_code(std::errc::no_such_file_or_directory), Operation::kList);
}

// The whole listing of a glob or of a single file, known before the 150 (a glob that matches nothing
// is a 550).
Task<Result<std::string, Reply>> whole_listing(SessionContext& ctx, ListingPlan& plan) {
  if (plan.single_line) co_return *plan.single_line + "\r\n";
  auto& pool = ctx.services.blocking;
  auto produced =
      co_await ctx.blocking([&] { return produce_listing(plan.job, pool, listing_helpers(pool)); });
  if (!produced) co_return Unexpected{fs_error_reply(produced.error(), Operation::kList)};
  if (produced->lines == 0) co_return Unexpected{no_match_reply()};
  co_return std::move(produced->text);
}

Task<Reply> send_listing(SessionContext& ctx, const Command& cmd, ListFormat format) {
  const auto argument =
      format == ListFormat::kMlsd ? cmd.argument : protocol::parse_list_argument(cmd.argument).path;
  const std::string verb(protocol::verb_name(cmd.verb));
  const std::string shown = argument.empty() ? std::string(ctx.state.cwd.str()) : argument;
  const Reply opening{ReplyCode::kFileStatusOk, "Here comes the directory listing."};
  auto plan = co_await plan_listing(ctx, cmd.argument, format);
  if (!plan) co_return plan.error();
  if (plan->single_line || !plan->job->pattern.empty()) {
    auto text = co_await whole_listing(ctx, *plan);
    if (!text) co_return text.error();
    co_return co_await run_transfer(
        ctx, verb, shown, opening, text->size(), Direction::kSend,
        [&](tls::Stream& data, TransferProgress& progress) -> Task<TransferOutcome> {
          co_return co_await send_bytes(data, std::move(*text), progress);
        },
        "Directory send OK.");
  }
  // A directory: its entries are read while the data connection opens and its TLS handshake runs.
  auto& pool = ctx.services.blocking;
  auto job = plan->job;
  auto pending =
      co_await pool.start([job, &pool] { return produce_listing(job, pool, listing_helpers(pool)); });
  struct CancelUnlessDone {
    ListingJob& job;
    ~CancelUnlessDone() { job.cancelled = true; }  // a transfer that failed first stops the work early
  } cancel{*job};
  co_return co_await run_transfer(
      ctx, verb, shown, opening, 0, Direction::kSend,
      [&](tls::Stream& data, TransferProgress& progress) -> Task<TransferOutcome> {
        auto produced = co_await pending->get();
        if (!produced) co_return TransferOutcome{TransferStatus::kLocalError, produced.error(), 0};
        co_return co_await send_bytes(data, std::move(produced->text), progress);
      },
      "Directory send OK.");
}

}  // namespace

Task<Result<std::vector<std::string>, Reply>> listing_lines(SessionContext& ctx, std::string_view argument,
                                                            ListFormat format) {
  auto plan = co_await plan_listing(ctx, argument, format);
  if (!plan) co_return Unexpected{plan.error()};
  if (plan->single_line) co_return std::vector<std::string>{std::move(*plan->single_line)};
  auto& pool = ctx.services.blocking;
  auto produced =
      co_await ctx.blocking([&] { return produce_listing(plan->job, pool, listing_helpers(pool)); });
  if (!produced) co_return Unexpected{fs_error_reply(produced.error(), Operation::kList)};
  if (produced->lines == 0 && !plan->job->pattern.empty()) co_return Unexpected{no_match_reply()};
  std::vector<std::string> lines;
  lines.reserve(produced->lines);
  std::string_view text = produced->text;
  for (std::size_t end = text.find("\r\n"); end != std::string_view::npos; end = text.find("\r\n")) {
    lines.emplace_back(text.substr(0, end));
    text.remove_prefix(end + 2);
  }
  co_return lines;
}

Task<Reply> retr(SessionContext& ctx, const Command& cmd) {
  auto path = ctx.resolve(cmd.argument);
  if (!path) co_return path_error_reply(path.error());
  const std::uint64_t offset = ctx.state.restart_offset;
  auto open = [&](bool cached_only) -> Result<std::pair<sys::UniqueFd, std::uint64_t>> {
    auto fd = ctx.fs().open_read(*path, cached_only);
    if (!fd) return Unexpected{fd.error()};
    auto st = sys::fstat(fd->get());
    if (!st) return Unexpected{st.error()};
    return std::pair{std::move(*fd), static_cast<std::uint64_t>(st->st_size)};
  };
  // A path the dentry cache holds opens right here; only one that needs the disk costs a trip to the
  // worker pool (per small file, that trip is a good part of the cost).
  auto opened = open(true);
  if (!opened && opened.error() == std::errc::resource_unavailable_try_again)
    opened = co_await ctx.blocking([&] { return open(false); });
  if (!opened) co_return fs_error_reply(opened.error(), Operation::kOpenRead);
  auto& fd = opened->first;
  const std::uint64_t size = opened->second;
  if (offset > size) co_return restart_beyond_end(offset, size);
  co_return co_await run_transfer(
      ctx, "RETR", path->str(),
      Reply{ReplyCode::kFileStatusOk, fmt::format("Opening {} mode data connection for {} ({} bytes).",
                                                  mode_name(ctx), path->name(), size)},
      size - offset, Direction::kSend,
      [&](tls::Stream& data, TransferProgress& progress) -> Task<TransferOutcome> {
        auto opts = options(ctx, offset, Direction::kSend);
        co_return co_await send_file(data, fd.get(), std::move(opts), ctx.services.blocking, progress);
      });
}

Task<Reply> stor(SessionContext& ctx, const Command& cmd) {
  auto path = ctx.resolve(cmd.argument);
  if (!path) co_return path_error_reply(path.error());
  co_return co_await upload(ctx, "STOR", *path, vfs::WriteMode::kTruncate,
                            fmt::format("Ok to send data ({} mode).", mode_name(ctx)));
}

Task<Reply> appe(SessionContext& ctx, const Command& cmd) {
  auto path = ctx.resolve(cmd.argument);
  if (!path) co_return path_error_reply(path.error());
  co_return co_await upload(ctx, "APPE", *path, vfs::WriteMode::kAppend,
                            fmt::format("Ok to append data ({} mode).", mode_name(ctx)));
}

Task<Reply> stou(SessionContext& ctx, const Command& cmd) {
  // RFC 1123 §4.1.2.9: the 150 reply names the file ("FILE: name").
  const std::string base = cmd.argument.empty() ? "ftpsd.upload" : cmd.argument;
  auto base_path = ctx.resolve(base);
  if (!base_path) co_return path_error_reply(base_path.error());
  for (int i = 0; i < 100; ++i) {
    const auto candidate =
        i == 0 ? *base_path : base_path->parent().child(fmt::format("{}.{}", base_path->name(), i));
    const bool exists = co_await ctx.blocking([&] { return ctx.fs().stat(candidate).has_value(); });
    if (exists) continue;
    co_return co_await upload(ctx, "STOU", candidate, vfs::WriteMode::kCreateNew,
                              fmt::format("FILE: {}", candidate.name()),
                              fmt::format("Transfer complete (unique file name: {}).", candidate.name()));
  }
  co_return Reply{ReplyCode::kFileNameNotAllowed, "Could not find a unique file name."};
}

Task<Reply> list(SessionContext& ctx, const Command& cmd) {
  co_return co_await send_listing(ctx, cmd, ListFormat::kLong);
}

Task<Reply> nlst(SessionContext& ctx, const Command& cmd) {
  const auto arg = protocol::parse_list_argument(cmd.argument);
  co_return co_await send_listing(ctx, cmd, arg.long_form ? ListFormat::kLong : ListFormat::kNames);
}

Task<Reply> mlsd(SessionContext& ctx, const Command& cmd) {
  co_return co_await send_listing(ctx, cmd, ListFormat::kMlsd);
}

Task<Reply> abor(SessionContext& ctx, const Command&) {
  if (!ctx.transfer.active()) {
    co_await ctx.data_link.reset();
    co_return Reply{ReplyCode::kNoTransferToAbort, "No transfer to abort."};
  }
  ctx.transfer.abort();
  co_await ctx.transfer.wait();  // the transfer answers 426 first (RFC 959 §4.1.3)
  co_return Reply{ReplyCode::kTransferComplete, "ABOR successful."};
}

}  // namespace ftpsd::session::handlers
