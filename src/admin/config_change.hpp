#pragma once
// How the Manager changes the configuration file, the careful way (README "Manager (admin API)"): the
// new text is checked as a whole as `ftpsd check-config` checks it (tools::check_config), written in
// place of the text it was made from (config::ConfigFile: refused when the file was edited by hand
// meanwhile; the previous text kept as a numbered revision), applied through the reload path, and
// recorded in the audit log with its diff.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "admin/api.hpp"
#include "config/config_file.hpp"
#include "tools/config_check.hpp"

namespace ftpsd::admin {

struct ChangeRequest {
  std::string next;    // the new text of the file
  std::string action;  // audit: "passive.update", "config.restore"
  std::string target;  // audit: "default", "revision 3"
  bool dry_run = false;
  // The JSON field a configuration key stands for in the request ("domains[1].passive.ports" ->
  // "ports"); nullopt: none (the error's field is null).
  std::function<std::optional<std::string>(const std::string& key)> field;
};

struct ChangeOutcome {
  tools::CheckedConfig checked;  // the new configuration, listeners as they run
  json answer;                   // applied, revision, diff, warnings, reload_error
};

// The configuration file the server runs with; nullopt after answering 409 (the embedded default has
// none; or the request's If-Match names another text than the file's: it was edited since the client
// read it, e.g. since a dry run showed the diff) or 500 (it cannot be read).
// [cluster]: `shared_suffix` (shared_tag_suffix()) is part of what If-Match names.
[[nodiscard]] std::optional<config::ConfigFile> open_config(
    const Api& api, const Request& req, Response& res,
    const std::optional<std::string>& shared_suffix = std::nullopt);

// The entity tag of a text of the file, as ETag and If-Match carry it: "\"<16 hex digits of SHA-256>\"".
[[nodiscard]] std::string text_tag(std::string_view text);
// [cluster]: what a tag covers besides the file's text: a domain's revision of its shared settings. The
// tag is text_tag(text + shared_tag_suffix(revision)).
[[nodiscard]] std::string shared_tag_suffix(std::int64_t revision);

// Checks, writes, applies and records `change` (the caller holds api.config_changes); the answer's ETag
// is the tag of the file's text after it (before it, for a dry run). nullopt after
// answering the error: 422 (refused by the check; `field` and the check's words), 409 (the file changed
// since it was read), 500 (it cannot be written).
[[nodiscard]] std::optional<ChangeOutcome> change_config(Api& api, const Request& req, Response& res,
                                                         const TokenHolder& who, config::ConfigFile& file,
                                                         const ChangeRequest& change);

// A NAT finding as the answers give it: "passive.address: 10.0.0.5 is a private address: ...".
[[nodiscard]] std::string finding_text(const tools::LintFinding& f);

}  // namespace ftpsd::admin
