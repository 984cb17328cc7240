#include <fmt/format.h>

#include <charconv>
#include <thread>

#include "admin/routes.hpp"
#include "obs/log_tail.hpp"

namespace ftpsd::admin {
namespace {

constexpr std::size_t kMostLines = 1000;
constexpr auto kPoll = std::chrono::milliseconds(500);  // how often a stream notices that the server stops
// A comment line when nothing was sent for a while: proxies keep the stream open, and a write to a
// browser that went away fails, which gives its place back.
constexpr auto kKeepAlive = std::chrono::seconds(2);
// After sending lines, a stream waits this long before it looks again: a burst of log lines (thousands
// a second under load) reaches the browser in a few writes, and wakes the stream's thread a few times,
// not once a line, so a live log costs the FTP sessions that write it next to nothing.
constexpr auto kBatch = std::chrono::milliseconds(100);

json entry_json(const obs::TailEntry& e) {
  return json{{"seq", e.seq}, {"level", e.level}, {"text", e.text}};
}

// kind (default "session") and filter; nullopt after answering 400.
std::optional<obs::LogKind> kind_of(const Request& req, Response& res) {
  const auto name = req.has_param("kind") ? req.get_param_value("kind") : std::string("session");
  const auto kind = obs::log_kind(name);
  if (!kind) send_error(res, 400, R"(kind must be "session" or "transfer")", "kind");
  return kind;
}

bool parse_count(const std::string& text, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

void recent(const Request& req, Response& res) {
  const auto kind = kind_of(req, res);
  if (!kind) return;
  std::uint64_t limit = 100;
  if (req.has_param("limit") &&
      (!parse_count(req.get_param_value("limit"), limit) || limit == 0 || limit > kMostLines)) {
    send_error(res, 400, fmt::format("limit must be a number from 1 to {}", kMostLines), "limit");
    return;
  }
  json entries = json::array();
  for (const auto& e : obs::log_tail().recent(*kind, limit, req.get_param_value("filter")))
    entries.push_back(entry_json(e));
  send_json(res, json{{"kind", req.has_param("kind") ? req.get_param_value("kind") : "session"},
                      {"entries", entries}});
}

// Server-Sent Events: each new line an event (id: its seq, data: {"seq","level","text"}). A browser
// that reconnects sends Last-Event-ID and gets what it missed, as far as the tail still has it.
void stream(Api& api, const Request& req, Response& res) {
  const auto kind = kind_of(req, res);
  if (!kind) return;
  std::uint64_t seq = 0;
  const auto last = req.get_header_value("Last-Event-ID");
  if (!last.empty() && !parse_count(last, seq)) {
    send_error(res, 400, "Last-Event-ID must be the seq of a line", "Last-Event-ID");
    return;
  }
  if (last.empty()) {  // from now on, plus the newest lines for context
    const auto context = obs::log_tail().recent(*kind, 1, "");
    if (!context.empty()) seq = context.back().seq;
  }
  if (api.streams.fetch_add(1) >= Api::kMostStreams) {
    api.streams.fetch_sub(1);
    send_error(res, 429,
               fmt::format("at most {} live log streams at once: close one first", Api::kMostStreams));
    return;
  }
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [&api, kind = *kind, filter = req.get_param_value("filter"), seq,
       quiet = std::chrono::steady_clock::duration{},
       sent = false](std::size_t, httplib::DataSink& sink) mutable {
        if (api.stopping.load()) return false;
        if (sent) std::this_thread::sleep_for(kBatch);  // then takes all that came meanwhile at once
        const auto lines = obs::log_tail().after(kind, seq, filter, kPoll);
        sent = !lines.empty();
        std::string out;
        for (const auto& e : lines) out += fmt::format("id: {}\ndata: {}\n\n", e.seq, entry_json(e).dump());
        quiet = lines.empty() ? quiet + kPoll : std::chrono::steady_clock::duration{};
        if (quiet >= kKeepAlive) {
          out += ": keep-alive\n\n";
          quiet = {};
        }
        return out.empty() || sink.write(out.data(), out.size());
      },
      [&api](bool) { api.streams.fetch_sub(1); });
}

}  // namespace

void add_log_routes(Api& api, Router& router) {
  router.get("/api/v1/logs", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) recent(req, res);
  });
  router.get("/api/v1/logs/stream", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) stream(api, req, res);
  });
}

}  // namespace ftpsd::admin
