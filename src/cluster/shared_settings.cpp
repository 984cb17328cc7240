#include "cluster/shared_settings.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cluster/schema.hpp"

namespace ftpsd::cluster {
namespace {

using nlohmann::json;

constexpr std::string_view kSelectAll = "SELECT domain, revision, settings::text, node FROM shared_passive";
constexpr std::string_view kSelectOne =
    "SELECT revision, settings::text, node FROM shared_passive WHERE domain = $1";
constexpr std::string_view kInsert =
    "INSERT INTO shared_passive (domain, revision, settings, node) VALUES ($1, 1, $2::jsonb, $3) "
    "ON CONFLICT (domain) DO NOTHING RETURNING revision";
constexpr std::string_view kUpdate =
    "UPDATE shared_passive SET settings = $2::jsonb, node = $3, revision = revision + 1, updated_at = now() "
    "WHERE domain = $1 AND revision = $4 RETURNING revision";

json parse_settings(const std::string& text) {
  auto settings = json::parse(text, nullptr, false);
  return settings.is_object() ? settings : json::object();
}

std::optional<std::vector<config::AddressOverride>> parse_overrides(const json& v) {
  std::vector<config::AddressOverride> out;
  if (v.is_null()) return out;  // none
  if (!v.is_array()) return std::nullopt;
  for (const auto& o : v) {
    if (!o.is_object() || !o.contains("networks") || !o["networks"].is_array() || !o.contains("address") ||
        !o["address"].is_string())
      return std::nullopt;
    config::AddressOverride parsed{.networks = {}, .address = o["address"].get<std::string>()};
    for (const auto& n : o["networks"]) {
      auto network = n.is_string() ? inet::IpNetwork::parse(n.get<std::string>()) : std::nullopt;
      if (!network) return std::nullopt;
      parsed.networks.push_back(*network);
    }
    out.push_back(std::move(parsed));
  }
  return out;
}

// Whether `key` ("domains[2].passive.address") or a part of it is written in the file.
bool written(const config::SourceLines& lines, const std::string& key) {
  const auto it = lines.lines.lower_bound(key);
  return it != lines.lines.end() && it->first.starts_with(key) &&
         (it->first.size() == key.size() || it->first[key.size()] == '[' || it->first[key.size()] == '.');
}

// The keys of `settings` that can be read, applied to `p`; `applies(key)`: whether to apply that key.
void apply_to(config::PassiveConfig& p, const std::string& domain, const json& settings,
              const std::function<bool(std::string_view key)>& applies, std::vector<std::string>* problems) {
  if (settings.contains("address") && applies("address")) {
    if (settings["address"].is_null())
      p.address.clear();  // none: the control connection's address
    else if (settings["address"].is_string())
      p.address = settings["address"].get<std::string>();
    else if (problems)
      problems->push_back(fmt::format("domain {}: the shared passive.address is not a string", domain));
  }
  if (settings.contains("overrides") && applies("address_overrides")) {
    if (auto overrides = parse_overrides(settings["overrides"]))
      p.address_overrides = std::move(*overrides);
    else if (problems)
      problems->push_back(
          fmt::format("domain {}: the shared passive.address_overrides cannot be read", domain));
  }
}

}  // namespace

void apply_shared(config::Config& config, const SharedValues& values, std::vector<std::string>* problems) {
  for (const auto& [domain, row] : values) {
    if (domain == "default") {
      apply_to(
          config.passive, domain, row.settings, [](std::string_view) { return true; }, problems);
      // The domains that inherit a key from the top level inherit its shared value.
      for (std::size_t i = 0; i < config.domains.size(); ++i)
        apply_to(
            config.domains[i].passive, config.domains[i].name, row.settings,
            [&](std::string_view key) {
              return !written(config.lines, fmt::format("domains[{}].passive.{}", i, key));
            },
            problems);
      continue;
    }
    for (auto& d : config.domains)
      if (d.name == domain)
        apply_to(
            d.passive, domain, row.settings, [](std::string_view) { return true; }, problems);
  }
}

SharedSettings::SharedSettings(config::ClusterConfig cluster, std::string password)
    : cluster_(std::move(cluster)), password_(std::move(password)) {}

SharedSettings::~SharedSettings() {
  stop();
}

bool SharedSettings::replace(SharedValues rows) {
  const std::lock_guard lock(mutex_);
  bool differs = rows.size() != values_.size();
  for (const auto& [domain, row] : rows) {
    const auto it = values_.find(domain);
    if (it == values_.end() || it->second.revision != row.revision) differs = true;
  }
  values_ = std::move(rows);
  return differs;
}

bool SharedSettings::poll(Connection& db) {
  auto rows = db.exec(kSelectAll);
  if (!rows) {
    if (!rows.error().connection_lost && !down_logged_)
      spdlog::error("cluster: reading the shared settings failed: {}", rows.error().message);
    return !rows.error().connection_lost;
  }
  SharedValues read;
  for (int i = 0; i < rows->count(); ++i)
    read.emplace(rows->text(i, 0), SharedRow{.revision = std::stoll(rows->text(i, 1)),
                                             .settings = parse_settings(rows->text(i, 2)),
                                             .node = rows->text(i, 3)});
  if (replace(std::move(read)) && changed_) changed_();
  return true;
}

bool SharedSettings::load() {
  auto opened = Connection::open(cluster_, password_);
  if (!opened) {
    spdlog::error(
        "cluster: the shared settings cannot be read ({}); this node uses its file's until the "
        "database is back",
        opened.error().message);
    return false;
  }
  poll_db_.emplace(std::move(*opened));
  if (auto migrated = migrate(*poll_db_); !migrated || !poll(*poll_db_)) {
    poll_db_.reset();
    spdlog::error("cluster: the shared settings cannot be read; this node uses its file's until they can");
    return false;
  }
  return true;
}

void SharedSettings::start(std::function<void()> changed) {
  changed_ = std::move(changed);
  thread_ = std::thread([this] { run(); });
}

void SharedSettings::stop() {
  {
    const std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SharedSettings::run() {
  std::unique_lock lock(stop_mutex_);
  while (!stop_cv_.wait_for(lock, kPollEvery, [this] { return stopping_; })) {
    lock.unlock();
    if (!poll_db_) {
      auto opened = Connection::open(cluster_, password_);
      if (opened) {
        poll_db_.emplace(std::move(*opened));
        if (auto migrated = migrate(*poll_db_); !migrated) poll_db_.reset();
      }
      if (!poll_db_ && !down_logged_) {
        spdlog::error("cluster: the shared settings' database is unreachable; the values last read apply");
        down_logged_ = true;
      }
    }
    if (poll_db_) {
      if (poll(*poll_db_)) {
        if (down_logged_) spdlog::warn("cluster: the shared settings' database is reachable again");
        down_logged_ = false;
      } else {
        poll_db_.reset();
      }
    }
    lock.lock();
  }
}

SharedValues SharedSettings::values() const {
  const std::lock_guard lock(mutex_);
  return values_;
}

SharedRow SharedSettings::known(std::string_view domain) const {
  const std::lock_guard lock(mutex_);
  const auto it = values_.find(domain);
  return it == values_.end() ? SharedRow{} : it->second;
}

void SharedSettings::apply(config::Config& config) const {
  const auto now = values();
  std::vector<std::string> problems;
  apply_shared(config, now, &problems);
  std::int64_t sum = 0;
  for (const auto& [_, row] : now) sum += row.revision;
  const std::lock_guard lock(mutex_);
  if (problems.empty() || logged_revisions_ == sum) return;
  logged_revisions_ = sum;
  for (const auto& p : problems) spdlog::error("cluster: {}; the file's value applies", p);
}

Result<SharedRow, std::string> SharedSettings::read(const std::string& domain) {
  const std::lock_guard lock(query_mutex_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!query_db_) {
      auto opened = Connection::open(cluster_, password_);
      if (!opened) return Unexpected{opened.error().message};
      query_db_.emplace(std::move(*opened));
    }
    auto rows = query_db_->exec(kSelectOne, {domain});
    if (!rows) {
      query_db_.reset();
      if (rows.error().connection_lost && attempt == 0) continue;  // the server restarted meanwhile
      return Unexpected{rows.error().message};
    }
    if (rows->count() == 0) return SharedRow{};
    return SharedRow{.revision = std::stoll(rows->text(0, 0)),
                     .settings = parse_settings(rows->text(0, 1)),
                     .node = rows->text(0, 2)};
  }
  return Unexpected{std::string("the database connection was lost")};
}

Result<SharedRow, WriteError> SharedSettings::write(const std::string& domain, const nlohmann::json& settings,
                                                    std::int64_t revision) {
  const std::lock_guard lock(query_mutex_);
  if (!query_db_) {
    auto opened = Connection::open(cluster_, password_);
    if (!opened) return Unexpected{WriteError{WriteRefusal::kUnreachable, opened.error().message}};
    query_db_.emplace(std::move(*opened));
  }
  const auto text = settings.dump();
  auto rows = revision == 0
                  ? query_db_->exec(kInsert, {domain, text, cluster_.node})
                  : query_db_->exec(kUpdate, {domain, text, cluster_.node, std::to_string(revision)});
  if (!rows) {
    query_db_.reset();
    return Unexpected{WriteError{WriteRefusal::kUnreachable, rows.error().message}};
  }
  if (rows->count() == 0)
    return Unexpected{
        WriteError{WriteRefusal::kConflict,
                   fmt::format("the shared passive settings of domain {} were changed on another "
                               "node since revision {}",
                               domain, revision)}};
  SharedRow row{.revision = std::stoll(rows->text(0, 0)), .settings = settings, .node = cluster_.node};
  {
    const std::lock_guard known(mutex_);
    values_[domain] = row;
  }
  return row;
}

}  // namespace ftpsd::cluster
