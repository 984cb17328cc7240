#include "obs/log.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <syslog.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>
#include <mutex>

#include "obs/log_tail.hpp"

namespace ftpsd::obs {
namespace {

constexpr char kStructured = '\x1f';  // a payload starting with it carries prebuilt JSON members
constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";

std::atomic<bool> g_json{false};

// The one logger's only sink: configure_logging() replaces what it forwards to.
std::shared_ptr<spdlog::sinks::dist_sink_mt> g_dist;

std::mutex g_xfer_mutex;
std::FILE* g_xfer = nullptr;

bool utf8_sequence(std::string_view s, std::size_t i, std::size_t& len) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07u;
  } else {
    return false;
  }
  if (i + len > s.size()) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0u) != 0x80u) return false;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  // No overlong forms, no surrogates, nothing above U+10FFFF.
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
  return !(cp >= 0xD800 && cp <= 0xDFFF);
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\u{:04x}", c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (std::size_t len = 0; utf8_sequence(text, i, len)) {
      out.append(text.substr(i, len));
      i += len - 1;
    } else {
      out += "\\ufffd";
    }
  }
  out += '"';
}

// JSON lines: {"time":...,"level":...,"session":...,"client":...,"user":...,"event":...,...}.
// Server lines (no session) get null session, client and user and the event "server".
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(msg.time);
    std::string line = fmt::format(R"({{"time":"{:%Y-%m-%dT%H:%M:%S}.{:03}Z","level":")",
                                   fmt::gmtime(std::chrono::system_clock::to_time_t(secs)), ms);
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",";
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (!payload.empty() && payload.front() == kStructured) {
      line.append(payload.substr(1));
    } else {
      line += R"("session":null,"client":null,"user":null,"domain":null,"event":"server","message":)";
      append_quoted(line, payload);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter(config::LogFormat format, bool syslog) {
  if (format == config::LogFormat::kJson) return std::make_unique<JsonFormatter>();
  // syslog stamps its own time and level.
  return std::make_unique<spdlog::pattern_formatter>(syslog ? "%v" : kTextPattern,
                                                     spdlog::pattern_time_type::utc);
}

// Every line, as the configured format writes it, into log_tail() for the Manager.
class TailSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    (g_json.load() ? json_ : text_)->format(msg, line);
    std::string text(line.data(), line.size());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto level = spdlog::level::to_string_view(msg.level);
    log_tail().append(LogKind::kSession, std::string_view(level.data(), level.size()), std::move(text));
  }
  void flush_() override {}

 private:
  std::unique_ptr<spdlog::formatter> text_ = make_formatter(config::LogFormat::kText, false);
  std::unique_ptr<spdlog::formatter> json_ = make_formatter(config::LogFormat::kJson, false);
};

void install_logger(spdlog::level::level_enum level) {
  g_dist = std::make_shared<spdlog::sinks::dist_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(
      "ftpsd", spdlog::sinks_init_list{g_dist, std::make_shared<TailSink>()});
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace

void init_logging(const std::string& level) {
  install_logger(spdlog::level::from_str(level));
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(make_formatter(config::LogFormat::kText, false));
  g_dist->set_sinks({sink});
}

Result<bool, std::string> configure_logging(const config::LogConfig& cfg) {
  spdlog::sink_ptr sink;
  try {
    if (cfg.file.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else if (cfg.file == "syslog") {
      sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("ftpsd", LOG_PID, LOG_DAEMON, true);
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(cfg.file, false);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Unexpected{fmt::format("log.file: {}", e.what())};
  }
  std::FILE* xfer = nullptr;
  if (!cfg.xferlog.empty()) {
    xfer = std::fopen(cfg.xferlog.c_str(), "ae");  // append, close-on-exec
    if (xfer == nullptr)
      return Unexpected{
          fmt::format("log.xferlog: cannot open {}: {}", cfg.xferlog.string(), std::strerror(errno))};
  }
  sink->set_formatter(make_formatter(cfg.format, cfg.file == "syslog"));
  if (!g_dist) install_logger(spdlog::level::from_str(cfg.level));
  g_json.store(cfg.format == config::LogFormat::kJson, std::memory_order_relaxed);
  g_dist->set_sinks({sink});
  spdlog::default_logger_raw()->set_level(spdlog::level::from_str(cfg.level));
  std::lock_guard lock(g_xfer_mutex);
  if (g_xfer != nullptr) std::fclose(g_xfer);
  g_xfer = xfer;
  return true;
}

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_quoted(out, text);
  return out;
}

void session_event(spdlog::level::level_enum level, const SessionRef& session, std::string_view event,
                   std::string_view message, std::initializer_list<Field> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  std::string line;
  if (!g_json.load(std::memory_order_relaxed)) {
    line = fmt::format("s={} {} {}", session.id, session.client, session.user.empty() ? "-" : session.user);
    if (session.domain != "default") fmt::format_to(std::back_inserter(line), "@{}", session.domain);
    line += ' ';
    line.append(message);
  } else {
    line += kStructured;
    line += fmt::format(R"("session":{},"client":)", session.id);
    append_quoted(line, session.client);
    line += R"(,"user":)";
    if (session.user.empty()) {
      line += "null";
    } else {
      append_quoted(line, session.user);
    }
    line += R"(,"domain":)";
    append_quoted(line, session.domain);
    line += R"(,"event":)";
    append_quoted(line, event);
    line += R"(,"message":)";
    append_quoted(line, message);
    for (const auto& f : fields) {
      line += ',';
      append_quoted(line, f.key);
      line += ':';
      if (const auto* s = std::get_if<std::string_view>(&f.value)) {
        append_quoted(line, *s);
      } else {
        line += fmt::format("{}", std::get<std::int64_t>(f.value));
      }
    }
  }
  logger->log(level, std::string_view(line));
}

std::string format_xferlog(const XferRecord& r) {
  auto field = [](std::string_view s) {
    std::string out(s.empty() ? std::string_view("-") : s);
    for (auto& c : out)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) c = '_';
    return out;
  };
  const std::time_t t = std::chrono::system_clock::to_time_t(r.end);
  std::tm tm{};
  localtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  const double secs = std::chrono::duration<double>(r.duration).count();
  const auto whole = std::max<long long>(1, std::llround(std::ceil(secs)));
  return fmt::format("{} {} {} {} {} {} _ {} {} {} ftp 0 * {}", when, whole, r.remote_host, r.bytes,
                     field(r.filename), r.ascii ? 'a' : 'b', r.incoming ? 'i' : 'o', r.anonymous ? 'a' : 'r',
                     field(r.user), r.complete ? 'c' : 'i');
}

void write_xferlog(const XferRecord& r) {
  std::string line = format_xferlog(r);
  {
    std::lock_guard lock(g_xfer_mutex);
    if (g_xfer != nullptr) {
      std::fputs((line + "\n").c_str(), g_xfer);
      std::fflush(g_xfer);
    }
  }
  log_tail().append(LogKind::kTransfer, "info", std::move(line));
}

}  // namespace ftpsd::obs
