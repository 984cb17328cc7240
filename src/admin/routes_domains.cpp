// GET /domains, /domains/{domain}, GET|PUT /domains/{domain}/passive, GET /domains/{domain}/firewall,
// POST /domains/{domain}/check: a domain's passive (NAT) settings, seen and changed live.
#include <fmt/format.h>

#include <array>
#include <regex>

#include "admin/config_change.hpp"
#include "admin/routes.hpp"
#include "cluster/shared_settings.hpp"
#include "config/diff.hpp"
#include "config/editor.hpp"
#include "config/loader.hpp"
#include "net/passive_host_resolver.hpp"
#include "tools/firewall.hpp"
#include "tools/server_checks.hpp"

namespace ftpsd::admin {
namespace {

constexpr std::array<std::string_view, 5> kFormats{"text", "nftables", "iptables", "ufw", "firewalld"};

std::string_view tls_mode(config::TlsMode m) {
  switch (m) {
    case config::TlsMode::kExplicit:
      return "explicit";
    case config::TlsMode::kImplicit:
      return "implicit";
    case config::TlsMode::kNone:
      break;
  }
  return "none";
}

std::string_view tls_required(config::TlsRequired r) {
  switch (r) {
    case config::TlsRequired::kLogin:
      return "login";
    case config::TlsRequired::kAll:
      return "all";
    case config::TlsRequired::kNone:
      break;
  }
  return "none";
}

json range_json(const std::optional<config::PortRange>& r) {
  if (!r) return nullptr;
  return r->first == r->last ? fmt::format("{}", r->first) : fmt::format("{}-{}", r->first, r->last);
}

json passive_json(const std::string& domain, const config::PassiveConfig& p,
                  const cluster::SharedRow* shared = nullptr) {
  json overrides = json::array();
  for (const auto& o : p.address_overrides) {
    json networks = json::array();
    for (const auto& n : o.networks) networks.push_back(n.to_string());
    overrides.push_back(json{{"networks", networks}, {"address", o.address}});
  }
  json out{{"domain", domain},
           {"address", p.address.empty() ? json(nullptr) : json(p.address)},
           {"ports", range_json(p.ports)},
           {"advertised_ports", range_json(p.advertised_ports)},
           {"overrides", overrides}};
  // [cluster]: where each value comes from: the database (shared by the nodes) or this node's file.
  if (shared) {
    out["shared"] = json{{"address", shared->settings.contains("address")},
                         {"ports", false},
                         {"advertised_ports", false},
                         {"overrides", shared->settings.contains("overrides")}};
    out["shared_revision"] = shared->revision;
  }
  return out;
}

// The domain's shared row as this node knows it; null without [cluster].
std::unique_ptr<cluster::SharedRow> known_shared(const Api& api, const std::string& domain) {
  if (!api.hooks.shared) return nullptr;
  return std::make_unique<cluster::SharedRow>(api.hooks.shared->known(domain));
}

// The domain named `name` in `cfg` ("default": the top level); nullopt: none.
std::optional<config::DomainConfig> domain_config(const config::Config& cfg, std::string_view name) {
  if (name == "default") return cfg.default_domain();
  for (const auto& d : cfg.domains)
    if (d.name == name) return d;
  return std::nullopt;
}

json domain_json(const config::Config& cfg, const config::DomainConfig& d,
                 const cluster::SharedRow* shared = nullptr) {
  json listeners = json::array();
  for (const auto& l : cfg.listeners) {
    if (!l.domain.empty() && l.domain != d.name) continue;
    listeners.push_back(json{{"address", l.address},
                             {"tls", tls_mode(l.tls)},
                             {"proxy_protocol", l.proxy_protocol},
                             {"domain", l.domain.empty() ? json(nullptr) : json(l.domain)}});
  }
  const bool is_default = d.name == "default";
  return json{
      {"name", d.name},
      {"hosts", d.hosts},
      {"listeners", listeners},
      {"tls", json{{"certificate", d.tls.configured() ? json(d.tls.certificate.string()) : json(nullptr)},
                   {"required", tls_required(d.tls.required)},
                   {"own_certificate", is_default ? d.tls.configured() : d.own_certificate}}},
      {"users_file", d.users.file.empty() ? json(nullptr) : json(d.users.file.string())},
      {"own_ports", is_default || d.own_ports},
      {"passive", passive_json(d.name, d.passive, shared)}};
}

// The running configuration's domain named by the path's first parameter; nullopt after a 404.
std::optional<config::DomainConfig> find_domain(const Api& api, const Request& req, Response& res,
                                                std::shared_ptr<const config::Config>& cfg) {
  cfg = api.running();
  const auto name = req.matches[1].str();
  auto d = domain_config(*cfg, name);
  if (!d) send_no_domain(res, name);
  return d;
}

json firewall_json(const config::Config& cfg, const std::string& domain) {
  json out = json::object();
  const auto plan = tools::plan_firewall(cfg, domain);
  if (!plan) return out;
  for (const auto f : kFormats)
    out[std::string(f)] = tools::render_firewall(*plan, *tools::parse_firewall_format(f));
  return out;
}

void firewall(const Api& api, const Request& req, Response& res) {
  std::shared_ptr<const config::Config> cfg;
  const auto d = find_domain(api, req, res, cfg);
  if (!d) return;
  const auto format = req.has_param("format") ? req.get_param_value("format") : std::string("text");
  const auto f = tools::parse_firewall_format(format);
  if (!f) {
    send_error(res, 400,
               fmt::format("unknown format '{}': use text, nftables, iptables, ufw or firewalld", format),
               "format");
    return;
  }
  const auto plan = tools::plan_firewall(*cfg, d->name);
  send_json(res, json{{"domain", d->name}, {"format", format}, {"rules", tools::render_firewall(*plan, *f)}});
}

void check(const Api& api, const Request& req, Response& res) {
  std::shared_ptr<const config::Config> cfg;
  const auto d = find_domain(api, req, res, cfg);
  if (!d) return;
  const auto snapshot = api.services->snapshot();
  const auto domain = snapshot.by_name(d->name);
  const auto view = d->name == "default" ? *cfg : cfg->for_domain(*d);
  auto pool = domain ? domain->ports : nullptr;
  const auto checks =
      tools::check_domain({.running = *cfg,
                           .domain = view,
                           .domain_name = d->name,
                           .ours =
                               [pool](std::uint16_t port) {
                                 return pool && pool->hold(port, {}) == net::PassivePortPool::Hold::kTaken;
                               },
                           .resolve = net::resolve_ipv4});
  json list = json::array();
  for (const auto& c : checks)
    list.push_back(
        json{{"check", c.check}, {"verdict", tools::name(c.verdict)}, {"detail", c.detail}, {"fix", c.fix}});
  send_json(res, json{{"domain", d->name}, {"checks", list}});
}

// --- PUT /domains/{domain}/passive

struct PassiveField {
  std::string_view field;  // in the request
  std::string_view key;    // in [passive]
};
constexpr std::array<PassiveField, 4> kPassiveFields{{{"address", "address"},
                                                      {"ports", "ports"},
                                                      {"advertised_ports", "advertised_ports"},
                                                      {"overrides", "address_overrides"}}};

// The request field a configuration key stands for, when it is one of the domain's passive keys.
std::optional<std::string> field_of(const std::string& key) {
  static const std::regex pattern(R"((?:domains\[\d+\]\.)?passive\.([a-z_]+).*)");
  std::smatch m;
  if (!std::regex_match(key, m, pattern)) return std::nullopt;
  for (const auto& f : kPassiveFields)
    if (m[1].str() == f.key) return std::string(f.field);
  return std::nullopt;
}

// An override as a TOML inline table; nullopt after answering 400.
std::optional<std::string> override_toml(const json& o, Response& res) {
  if (!o.is_object() || !o.contains("networks") || !o["networks"].is_array() || !o.contains("address") ||
      !o["address"].is_string() || o.size() != 2) {
    send_error(res, 400,
               "'overrides' must be a list of objects {\"networks\": [\"10.0.0.0/8\", ...], \"address\": "
               "\"10.0.0.5\"}",
               "overrides");
    return std::nullopt;
  }
  std::string networks;
  for (const auto& n : o["networks"]) {
    if (!n.is_string()) {
      send_error(res, 400, "'overrides': each network must be a string such as \"10.0.0.0/8\"", "overrides");
      return std::nullopt;
    }
    networks += (networks.empty() ? "" : ", ") + config::toml_quote(n.get<std::string>());
  }
  return fmt::format("{{ networks = [{}], address = {} }}", networks,
                     config::toml_quote(o["address"].get<std::string>()));
}

// The key edits the body asks for under `prefix` ("passive." or "domains[1].passive."); nullopt after
// answering 400.
std::optional<std::vector<config::KeyEdit>> passive_edits(const json& body, const std::string& prefix,
                                                          Response& res) {
  for (const auto& item : body.items()) {
    const auto& name = item.key();
    const bool known = std::any_of(kPassiveFields.begin(), kPassiveFields.end(),
                                   [&name](const PassiveField& f) { return f.field == name; });
    if (!known) {
      send_error(res, 400,
                 fmt::format("unknown field '{}': the passive settings are address, ports, advertised_ports "
                             "and overrides",
                             name),
                 name);
      return std::nullopt;
    }
  }
  std::vector<config::KeyEdit> edits;
  for (const auto& f : kPassiveFields) {
    const std::string field(f.field);
    if (!body.contains(field)) continue;
    const auto& v = body[field];
    config::KeyEdit edit{.path = prefix + std::string(f.key), .value = std::nullopt};
    if (v.is_null()) {
      edits.push_back(std::move(edit));
      continue;
    }
    if (field == "overrides") {
      if (!v.is_array()) {
        send_error(res, 400, "'overrides' must be a list or null", field);
        return std::nullopt;
      }
      std::string list;
      for (const auto& o : v) {
        auto text = override_toml(o, res);
        if (!text) return std::nullopt;
        list += (list.empty() ? "" : ", ") + *text;
      }
      edit.value = "[" + list + "]";
    } else {
      if (!v.is_string()) {
        send_error(res, 400, fmt::format("'{}' must be a string or null", field), field);
        return std::nullopt;
      }
      edit.value = config::toml_quote(v.get<std::string>());
    }
    edits.push_back(std::move(edit));
  }
  return edits;
}

bool dry_run(const Request& req) {
  return req.has_param("dry_run") && req.get_param_value("dry_run") != "0" &&
         req.get_param_value("dry_run") != "false";
}

// [cluster]: the entity tag of the file's text and the domain's shared revision together.
std::string cluster_tag(const std::string& text, std::int64_t revision) {
  return text_tag(text + shared_tag_suffix(revision));
}

// A shared value as the audit's diff and the answer show it.
std::string shown(const json& settings, std::string_view field) {
  return settings.contains(field) ? settings[std::string(field)].dump() : "(this node's file)";
}

// [cluster]: PUT /passive with the shared keys (address, overrides) in the database and the node-local
// ones (ports, advertised_ports) in this node's file. The whole is checked as if the file had them all.
void put_shared_passive(Api& api, const Request& req, Response& res, const TokenHolder& who,
                        const std::string& domain, const json& body, const std::string& prefix,
                        config::ConfigFile& file, const cluster::SharedRow& row) {
  auto edits = passive_edits(body, prefix, res);
  if (!edits) return;
  std::string all = file.text();
  std::string local = file.text();
  for (const auto& e : *edits) {
    auto edited = config::edit_toml(all, std::span(&e, 1));
    if (!edited) {
      send_error(res, 422, edited.error(), field_of(e.path));
      return;
    }
    all = std::move(*edited);
    const auto field = field_of(e.path);
    const bool shared = std::any_of(cluster::kSharedPassive.begin(), cluster::kSharedPassive.end(),
                                    [&](const auto& f) { return field && f.first == *field; });
    if (shared) continue;
    auto kept = config::edit_toml(local, std::span(&e, 1));
    if (!kept) {
      send_error(res, 422, kept.error(), field);
      return;
    }
    local = std::move(*kept);
  }
  auto checked = tools::check_config(all, file.path());
  if (!checked) {
    const auto& refusal = checked.error();
    const auto field = field_of(refusal.key);
    const auto message =
        refusal.findings.empty() ? refusal.message : fmt::format("{}: {}", refusal.key, refusal.message);
    send_error(res, 422, message, field ? std::optional<std::string_view>(*field) : std::nullopt);
    return;
  }
  checked->config.listeners = api.running()->listeners;  // as they run: they change only at a restart
  json settings = row.settings;
  for (const auto& [field, key] : cluster::kSharedPassive)
    if (body.contains(std::string(field))) settings[std::string(field)] = body[std::string(field)];
  const auto path = file.path().string();
  json answer = json::object();
  answer["diff"] = config::unified_diff(file.text(), local, path, path);
  json changes = json::object();
  std::string shared_diff;
  for (const auto& [field, key] : cluster::kSharedPassive) {
    const auto before = shown(row.settings, field);
    const auto after = shown(settings, field);
    if (before == after) continue;
    changes[std::string(field)] = json{{"from", before}, {"to", after}};
    shared_diff +=
        fmt::format("shared passive.{} of domain {} (all nodes): {} -> {}\n", key, domain, before, after);
  }
  answer["shared_changes"] = changes;
  json warnings = json::array();
  for (const auto& w : checked->warnings) warnings.push_back(finding_text(w));
  answer["warnings"] = warnings;
  answer["revision"] = nullptr;
  answer["reload_error"] = nullptr;
  answer["applied"] = false;
  cluster::SharedRow after = row;
  after.settings = settings;
  const auto respond = [&](const std::string& text, const cluster::SharedRow& shared) {
    auto cfg = checked->config;
    cluster::apply_shared(cfg, {{domain, shared}});
    const auto changed = domain_config(cfg, domain);
    res.set_header("ETag", cluster_tag(text, shared.revision));
    answer["passive"] = changed ? passive_json(domain, changed->passive, &shared) : json(nullptr);
    answer["firewall"] = firewall_json(cfg, domain);
    send_json(res, answer);
  };
  const bool shared_changed = settings != row.settings;
  if (dry_run(req) || (!shared_changed && local == file.text())) {
    answer["applied"] = !dry_run(req);
    respond(file.text(), dry_run(req) ? after : row);
    return;
  }
  // The database first: when it cannot be written, nothing is.
  if (shared_changed) {
    auto written = api.hooks.shared->write(domain, settings, row.revision);
    if (!written) {
      const auto& e = written.error();
      if (e.refusal == cluster::WriteRefusal::kConflict)
        send_error(res, 409,
                   fmt::format("{}; nothing was written: read them again and repeat the change", e.message));
      else
        send_error(res, 503,
                   fmt::format("the cluster database is unreachable ({}); nothing was changed: the "
                               "shared settings cannot be changed until it is back",
                               e.message));
      return;
    }
    after = std::move(*written);
  } else {
    after = row;
  }
  if (local != file.text()) {
    auto revision = file.replace(local);
    if (!revision) {
      const bool edited = revision.error().find("changed since it was read") != std::string::npos;
      send_error(res, edited ? 409 : 500, revision.error());
      return;
    }
    answer["revision"] = *revision;
  }
  api.record(req, who, "passive.update", domain, answer["diff"].get<std::string>() + shared_diff);
  const auto failed = api.hooks.reload();
  answer["applied"] = !failed;
  if (failed) answer["reload_error"] = *failed;
  respond(local, after);
}

void put_passive(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  std::shared_ptr<const config::Config> running;
  const auto d = find_domain(api, req, res, running);
  if (!d) return;
  const auto body = object_body(req, res);
  if (!body) return;
  const std::lock_guard lock(api.config_changes);
  // [cluster]: the domain's shared settings as the database has them now (their revision is part of the
  // entity tag); unreachable: nothing is changed.
  std::optional<cluster::SharedRow> row;
  if (api.hooks.shared) {
    auto read = api.hooks.shared->read(d->name);
    if (!read) {
      send_error(res, 503,
                 fmt::format("the cluster database is unreachable ({}); nothing was changed: the "
                             "passive settings cannot be changed until it is back",
                             read.error()));
      return;
    }
    row = std::move(*read);
  }
  auto file =
      open_config(api, req, res, row ? std::optional(shared_tag_suffix(row->revision)) : std::nullopt);
  if (!file) return;
  // The domain's index as the file has it now.
  std::string prefix = "passive.";
  if (d->name != "default") {
    auto now = config::load_string(file->text(), file->path(), file->path().parent_path());
    std::optional<std::size_t> index;
    for (std::size_t i = 0; now && i < now->domains.size(); ++i)
      if (now->domains[i].name == d->name) index = i;
    if (!index) {
      send_error(
          res, 409,
          now ? fmt::format("{} has no domain '{}' any more (edited by hand?): reload the configuration "
                            "first",
                            file->path().string(), d->name)
              : now.error().message);
      return;
    }
    prefix = fmt::format("domains[{}].passive.", *index);
  }
  if (row) {
    put_shared_passive(api, req, res, who, d->name, *body, prefix, *file, *row);
    return;
  }
  auto edits = passive_edits(*body, prefix, res);
  if (!edits) return;
  std::string next = file->text();
  for (const auto& e : *edits) {
    auto edited = config::edit_toml(next, std::span(&e, 1));
    if (!edited) {
      send_error(res, 422, edited.error(), field_of(e.path));
      return;
    }
    next = std::move(*edited);
  }
  auto outcome = change_config(api, req, res, who, *file,
                               {.next = std::move(next),
                                .action = "passive.update",
                                .target = d->name,
                                .dry_run = dry_run(req),
                                .field = field_of});
  if (!outcome) return;
  const auto changed = domain_config(outcome->checked.config, d->name);
  auto answer = std::move(outcome->answer);
  answer["passive"] = changed ? passive_json(d->name, changed->passive) : json(nullptr);
  answer["firewall"] = firewall_json(outcome->checked.config, d->name);
  send_json(res, answer);
}

}  // namespace

void add_domain_routes(Api& api, Router& router) {
  router.get("/api/v1/domains", [&api](const Request& req, Response& res) {
    if (!api.authenticate(req, res)) return;
    const auto cfg = api.running();
    json list = json::array({domain_json(*cfg, cfg->default_domain(), known_shared(api, "default").get())});
    for (const auto& d : cfg->domains) list.push_back(domain_json(*cfg, d, known_shared(api, d.name).get()));
    send_json(res, json{{"domains", list}});
  });
  router.get("/api/v1/domains/{domain}", [&api](const Request& req, Response& res) {
    if (!api.authenticate(req, res)) return;
    std::shared_ptr<const config::Config> cfg;
    if (const auto d = find_domain(api, req, res, cfg))
      send_json(res, domain_json(*cfg, *d, known_shared(api, d->name).get()));
  });
  router.get("/api/v1/domains/{domain}/passive", [&api](const Request& req, Response& res) {
    if (!api.authenticate(req, res)) return;
    std::shared_ptr<const config::Config> cfg;
    if (const auto d = find_domain(api, req, res, cfg))
      send_json(res, passive_json(d->name, d->passive, known_shared(api, d->name).get()));
  });
  router.put("/api/v1/domains/{domain}/passive", [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kAdmin, "changing the passive settings"))
      put_passive(api, req, res, *who);
  });
  router.get("/api/v1/domains/{domain}/firewall", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) firewall(api, req, res);
  });
  router.post("/api/v1/domains/{domain}/check", [&api](const Request& req, Response& res) {
    if (api.require(req, res, auth::AdminRole::kOperator, "checking a domain")) check(api, req, res);
  });
}

}  // namespace ftpsd::admin
