#include "admin/config_change.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <array>

#include "config/diff.hpp"

namespace ftpsd::admin {

std::string finding_text(const tools::LintFinding& f) {
  return fmt::format("{}: {}", f.key, f.message);
}

std::string text_tag(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), md.data(), &size, EVP_sha256(), nullptr);
  std::string out = "\"";
  for (unsigned int i = 0; i < 8 && i < size; ++i) out += fmt::format("{:02x}", md[i]);
  return out + "\"";
}

std::string shared_tag_suffix(std::int64_t revision) {
  return fmt::format("\n# shared revision {}", revision);
}

std::optional<config::ConfigFile> open_config(const Api& api, const Request& req, Response& res,
                                              const std::optional<std::string>& shared_suffix) {
  const auto source = api.services->snapshot().config->source;
  if (source == config::kEmbeddedDefaultName) {
    send_error(res, 409,
               "the server runs with its embedded default configuration: there is no file to change (start "
               "it with --config FILE)");
    return std::nullopt;
  }
  auto file = config::ConfigFile::open(source);
  if (!file) {
    send_error(res, 500, file.error());
    return std::nullopt;
  }
  const auto tag = text_tag(file->text() + shared_suffix.value_or(""));
  if (req.has_header("If-Match") && req.get_header_value("If-Match") != tag && shared_suffix) {
    send_error(
        res, 409,
        fmt::format("{} or the domain's shared settings changed since you read them (edited by hand, or "
                    "changed on another node?); nothing was written: read them again and repeat the change",
                    source.string()));
    return std::nullopt;
  }
  if (req.has_header("If-Match") && req.get_header_value("If-Match") != tag) {
    send_error(res, 409,
               fmt::format("{} changed since you read it (edited by hand meanwhile?); nothing was written: "
                           "read it again and repeat the change",
                           source.string()));
    return std::nullopt;
  }
  return std::move(*file);
}

std::optional<ChangeOutcome> change_config(Api& api, const Request& req, Response& res,
                                           const TokenHolder& who, config::ConfigFile& file,
                                           const ChangeRequest& change) {
  auto checked = tools::check_config(change.next, file.path());
  if (!checked) {
    const auto& refusal = checked.error();
    const auto field = change.field ? change.field(refusal.key) : std::nullopt;
    const auto message =
        refusal.findings.empty() ? refusal.message : fmt::format("{}: {}", refusal.key, refusal.message);
    send_error(res, 422, message, field ? std::optional<std::string_view>(*field) : std::nullopt);
    return std::nullopt;
  }
  // The listeners as they run (a port 0 in the file is the port bound at start): listeners change only
  // at a restart.
  checked->config.listeners = api.running()->listeners;
  const auto path = file.path().string();
  ChangeOutcome out{.checked = std::move(*checked), .answer = json::object()};
  const std::string before = file.text();
  out.answer["diff"] = config::unified_diff(before, change.next, path, path);
  json warnings = json::array();
  for (const auto& w : out.checked.warnings) warnings.push_back(finding_text(w));
  out.answer["warnings"] = warnings;
  out.answer["revision"] = nullptr;
  out.answer["reload_error"] = nullptr;
  out.answer["applied"] = false;
  if (change.dry_run || change.next == before) {
    out.answer["applied"] = !change.dry_run;  // nothing to change: in effect as it is
    res.set_header("ETag", text_tag(before));
    return out;
  }
  auto revision = file.replace(change.next);
  if (!revision) {
    const bool edited = revision.error().find("changed since it was read") != std::string::npos;
    send_error(res, edited ? 409 : 500, revision.error());
    return std::nullopt;
  }
  out.answer["revision"] = *revision;
  res.set_header("ETag", text_tag(change.next));
  api.record(req, who, change.action, change.target, out.answer["diff"].get<std::string>());
  const auto failed = api.hooks.reload();
  out.answer["applied"] = !failed;
  if (failed) out.answer["reload_error"] = *failed;
  return out;
}

}  // namespace ftpsd::admin
