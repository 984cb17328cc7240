// GET /config/revisions, /config/revisions/{n}, /config/diff; POST /config/revisions/{n}/restore: the
// previous texts of the configuration file (config::ConfigFile keeps one at each change), compared and
// brought back.
#include <fmt/format.h>

#include <charconv>

#include "admin/config_change.hpp"
#include "admin/routes.hpp"
#include "config/diff.hpp"

namespace ftpsd::admin {
namespace {

std::optional<unsigned> number(const std::string& text) {
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

std::filesystem::path source(const Api& api) {
  return api.services->snapshot().config->source;
}

json revision_json(const config::Revision& r) {
  const auto saved = std::chrono::file_clock::to_sys(r.saved);
  return json{{"number", r.number},
              {"saved", utc(std::chrono::time_point_cast<std::chrono::system_clock::duration>(saved))},
              {"size", r.size}};
}

// The text of revision `text` ("current": the file as it is now); nullopt after answering 400 or 404.
std::optional<std::string> text_of(const Api& api, const std::string& text, std::string_view field,
                                   Response& res) {
  const auto path = source(api);
  if (text == "current" && field == "to") {
    auto file = config::ConfigFile::open(path);
    if (!file) {
      send_error(res, 500, file.error());
      return std::nullopt;
    }
    return file->text();
  }
  const auto n = number(text);
  if (!n) {
    send_error(res, 400,
               fmt::format("{} must be a revision number{}", field, field == "to" ? " or \"current\"" : ""),
               field);
    return std::nullopt;
  }
  auto kept = config::ConfigFile::revision_text(path, *n);
  if (!kept) {
    send_error(res, 404, fmt::format("no revision {} of {}", *n, path.string()), field);
    return std::nullopt;
  }
  return std::move(*kept);
}

void revision(const Api& api, const Request& req, Response& res) {
  const auto path = source(api);
  const auto& text = req.matches[1].str();
  const auto n = number(text);
  for (const auto& r : config::ConfigFile::revisions(path)) {
    if (!n || r.number != *n) continue;
    auto kept = config::ConfigFile::revision_text(path, r.number);
    if (!kept) break;
    auto answer = revision_json(r);
    answer["text"] = *kept;
    send_json(res, answer);
    return;
  }
  send_error(res, 404, fmt::format("no revision {} of {}", text, path.string()));
}

void diff(const Api& api, const Request& req, Response& res) {
  if (!req.has_param("from")) {
    send_error(res, 400, "from must be a revision number", "from");
    return;
  }
  const auto from = req.get_param_value("from");
  const auto to = req.has_param("to") ? req.get_param_value("to") : std::string("current");
  const auto before = text_of(api, from, "from", res);
  if (!before) return;
  const auto after = text_of(api, to, "to", res);
  if (!after) return;
  const auto name = source(api).string();
  send_json(res, json{{"from", from},
                      {"to", to},
                      {"diff", config::unified_diff(
                                   *before, *after, fmt::format("{} (revision {})", name, from),
                                   to == "current" ? name : fmt::format("{} (revision {})", name, to))}});
}

void restore(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto& text = req.matches[1].str();
  const std::lock_guard lock(api.config_changes);
  auto file = open_config(api, req, res);
  if (!file) return;
  const auto n = number(text);
  auto kept = n ? config::ConfigFile::revision_text(file->path(), *n)
                : Result<std::string, std::string>(Unexpected{std::string()});
  if (!kept) {
    send_error(res, 404, fmt::format("no revision {} of {}", text, file->path().string()));
    return;
  }
  auto outcome = change_config(api, req, res, who, *file,
                               {.next = std::move(*kept),
                                .action = "config.restore",
                                .target = fmt::format("revision {}", *n),
                                .dry_run = false,
                                .field = {}});
  if (!outcome) return;
  auto answer = std::move(outcome->answer);
  answer["restored"] = *n;
  send_json(res, answer);
}

}  // namespace

void add_config_routes(Api& api, Router& router) {
  router.get("/api/v1/config/revisions", [&api](const Request& req, Response& res) {
    if (!api.authenticate(req, res)) return;
    json list = json::array();
    for (const auto& r : config::ConfigFile::revisions(source(api))) list.push_back(revision_json(r));
    send_json(res, json{{"file", source(api).string()}, {"revisions", list}});
  });
  router.get("/api/v1/config/revisions/{n}", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) revision(api, req, res);
  });
  router.get("/api/v1/config/diff", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) diff(api, req, res);
  });
  router.post("/api/v1/config/revisions/{n}/restore", [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kAdmin, "restoring a revision"))
      restore(api, req, res, *who);
  });
}

}  // namespace ftpsd::admin
