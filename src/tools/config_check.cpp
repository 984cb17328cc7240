#include "tools/config_check.hpp"

#include <fmt/format.h>

#include <set>

#include "auth/admin_store.hpp"
#include "auth/user_store.hpp"
#include "config/loader.hpp"
#include "net/passive_host_resolver.hpp"
#include "tls/context.hpp"

namespace ftpsd::tools {

Result<std::optional<sys::Identity>, std::string> service_identity(const config::Config& config) {
  if (config.server.user.empty()) return std::optional<sys::Identity>{};
  auto id = sys::lookup_identity(config.server.user, config.server.group);
  if (!id) {
    return Unexpected{fmt::format("{}: key '{}': {}", config.source.string(),
                                  id.error().starts_with("no such group") ? "server.group" : "server.user",
                                  id.error())};
  }
  return std::optional<sys::Identity>{std::move(*id)};
}

namespace {

Unexpected<ConfigRefusal> refused(const config::ConfigError& e) {
  return Unexpected{ConfigRefusal{.message = e.message, .key = e.key, .findings = {}, .report = {e.message}}};
}

Result<CheckedConfig, ConfigRefusal> check_loaded(config::Config cfg) {
  const auto refuse = [](const std::string& message, std::string key = {}) {
    return Unexpected{
        ConfigRefusal{.message = message, .key = std::move(key), .findings = {}, .report = {message}}};
  };
  std::set<std::filesystem::path> users_files{cfg.users.file};
  for (const auto& d : cfg.domains) users_files.insert(d.users.file);
  for (const auto& file : users_files) {
    if (file.empty()) continue;
    if (auto users = auth::UserStore::load(file); !users) return refuse(users.error().message);
  }
  if (cfg.admin.enabled()) {
    if (auto admins = auth::AdminStore::load(cfg.admin.users_file); !admins)
      return refuse(admins.error().message);
  }
  if (cfg.tls.configured()) {
    if (auto tls = tls::ServerContext::create(cfg.served_tls()); !tls) return refuse(tls.error());
  }
  if (auto id = service_identity(cfg); !id)
    return refuse(id.error(),
                  id.error().find("'server.group'") != std::string::npos ? "server.group" : "server.user");
  auto findings = lint_nat(cfg, net::resolve_ipv4, LintStage::kCheck);
  for (const auto& f : findings) {
    if (f.severity != LintFinding::Severity::kError) continue;
    ConfigRefusal refusal{.message = f.message, .key = f.key, .findings = {}, .report = {}};
    for (const auto& each : findings) refusal.report.push_back(describe(cfg, each));
    refusal.findings = std::move(findings);
    return Unexpected{std::move(refusal)};
  }
  return CheckedConfig{.config = std::move(cfg), .warnings = std::move(findings)};
}

}  // namespace

Result<CheckedConfig, ConfigRefusal> check_config(std::string_view text, const std::filesystem::path& file) {
  auto cfg = config::load_string(text, file, file.parent_path());
  if (!cfg) return refused(cfg.error());
  return check_loaded(std::move(*cfg));
}

Result<CheckedConfig, ConfigRefusal> check_config_file(const std::filesystem::path& file) {
  auto cfg = config::load_file_or_default(file);
  if (!cfg) return refused(cfg.error());
  return check_loaded(std::move(*cfg));
}

std::string describe(const config::Config& cfg, const LintFinding& finding) {
  return fmt::format("{}: {}: {}: {}", location(cfg, finding),
                     finding.severity == LintFinding::Severity::kError ? "error" : "warning", finding.key,
                     finding.message);
}

}  // namespace ftpsd::tools
