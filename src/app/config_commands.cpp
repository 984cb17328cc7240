#include "app/config_commands.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

#include "config/config_file.hpp"
#include "config/diff.hpp"
#include "config/editor.hpp"
#include "config/loader.hpp"
#include "sys/syscalls.hpp"
#include "tools/config_check.hpp"
#include "tools/nat_commands.hpp"

namespace ftpsd::app {
namespace {

// Everything `check-config` checks (tools::check_config), on the text about to be written. Prints why
// not, and the NAT lint's warnings.
bool acceptable(const std::string& text, const std::filesystem::path& file) {
  auto checked = tools::check_config(text, file);
  if (!checked) {
    const auto& refusal = checked.error();
    if (refusal.findings.empty()) {
      fmt::print(stderr, "ftpsd: not written: {}\n", refusal.message);
    } else {
      for (const auto& line : refusal.report) fmt::print(stderr, "{}\n", line);
      fmt::print(stderr, "ftpsd: not written: the NAT set-up above has errors\n");
    }
    return false;
  }
  tools::print_nat_findings(checked->config, checked->warnings);
  return true;
}

// "passive.address" of `domain`: "domains[N].passive.address" (the top level's for "default").
std::optional<std::string> key_path(const config::ConfigFile& file, const std::string& domain,
                                    const std::string& key) {
  if (domain.empty() || domain == "default") return key;
  auto cfg = config::load_string(file.text(), file.path(), file.path().parent_path());
  if (!cfg) {
    fmt::print(stderr, "ftpsd: {}\n", cfg.error().message);
    return std::nullopt;
  }
  for (std::size_t i = 0; i < cfg->domains.size(); ++i)
    if (cfg->domains[i].name == domain) return fmt::format("domains[{}].{}", i, key);
  fmt::print(stderr, "ftpsd: --domain: no domain is named '{}' in {}\n", domain, file.path().string());
  return std::nullopt;
}

int write(config::ConfigFile& file, const std::string& next) {
  if (next == file.text()) {
    fmt::print("{}: nothing changes\n", file.path().string());
    return 0;
  }
  if (!acceptable(next, file.path())) return 1;
  const std::string before = file.text();
  auto kept = file.replace(next);
  if (!kept) {
    fmt::print(stderr, "ftpsd: {}\n", kept.error());
    return 1;
  }
  fmt::print("{}", config::unified_diff(before, next, file.path().string(), file.path().string()));
  fmt::print("{}: written; the previous text is revision {} (`ftpsd config restore {}` brings it back)\n",
             file.path().string(), *kept, *kept);
  return 0;
}

int edit(const std::string& path,
         const std::vector<std::pair<std::string, std::optional<std::string>>>& changes,
         const std::string& domain) {
  auto file = config::ConfigFile::open(path);
  if (!file) {
    fmt::print(stderr, "ftpsd: {}\n", file.error());
    return 1;
  }
  std::vector<config::KeyEdit> edits;
  for (const auto& [key, value] : changes) {
    auto full = key_path(*file, domain, key);
    if (!full) return 1;
    edits.push_back(
        {.path = *full, .value = value ? std::optional(config::typed_value(*value)) : std::nullopt});
  }
  auto next = config::edit_toml(file->text(), edits);
  if (!next) {
    fmt::print(stderr, "ftpsd: not written: {}\n", next.error());
    return 1;
  }
  return write(*file, *next);
}

}  // namespace

int cmd_config_set(const std::string& file, const std::vector<std::string>& key_values,
                   const std::string& domain) {
  if (key_values.size() % 2 != 0) {
    fmt::print(stderr, "ftpsd: config set takes KEY VALUE pairs (one is missing its value)\n");
    return 2;
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  for (std::size_t i = 0; i < key_values.size(); i += 2)
    changes.emplace_back(key_values[i], key_values[i + 1]);
  return edit(file, changes, domain);
}

int cmd_config_unset(const std::string& file, const std::vector<std::string>& keys,
                     const std::string& domain) {
  std::vector<std::pair<std::string, std::optional<std::string>>> changes;
  changes.reserve(keys.size());
  for (const auto& k : keys) changes.emplace_back(k, std::nullopt);
  return edit(file, changes, domain);
}

int cmd_config_revisions(const std::string& file) {
  const auto kept = config::ConfigFile::revisions(file);
  if (kept.empty()) {
    fmt::print("{}: no revisions yet (`ftpsd config set` keeps one at each change)\n", file);
    return 0;
  }
  for (const auto& r : kept) {
    const auto when = std::chrono::file_clock::to_sys(r.saved);
    fmt::print("{:>4}  {:%Y-%m-%d %H:%M:%S}  {:>7} bytes  {}\n", r.number,
               std::chrono::floor<std::chrono::seconds>(when), r.size, r.path.string());
  }
  return 0;
}

int cmd_config_init(const std::string& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    fmt::print(stderr, "ftpsd: {} exists: not overwritten (change it with `ftpsd config set`)\n", file);
    return 1;
  }
  if (const auto failed = sys::write_file_durably(file, config::embedded_default(), 0644)) {
    fmt::print(stderr, "ftpsd: cannot write {}: {}\n", file, failed.message());
    return 1;
  }
  fmt::print("wrote {} (the embedded default; its relative paths are relative to the file's folder)\n", file);
  return 0;
}

int cmd_config_restore(const std::string& file, unsigned number) {
  auto text = config::ConfigFile::revision_text(file, number);
  if (!text) {
    fmt::print(stderr, "ftpsd: {}\n", text.error());
    return 1;
  }
  auto current = config::ConfigFile::open(file);
  if (!current) {
    fmt::print(stderr, "ftpsd: {}\n", current.error());
    return 1;
  }
  return write(*current, *text);
}

}  // namespace ftpsd::app
