#include "app/cluster_commands.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "auth/toml_file.hpp"
#include "auth/user_store.hpp"
#include "cluster/node_registry.hpp"
#include "cluster/pg.hpp"
#include "cluster/schema.hpp"
#include "cluster/user_table.hpp"
#include "runtime/asio.hpp"
#include "tools/cluster_lb.hpp"

namespace ftpsd::app {
namespace {

// The domain a command names: "" is the top level's ("default"); any other must be a [[domains]] name.
std::optional<std::string> domain_of(const config::Config& cfg, const std::string& domain) {
  if (domain.empty() || domain == "default") return "default";
  if (std::ranges::any_of(cfg.domains, [&](const auto& d) { return d.name == domain; })) return domain;
  fmt::print(stderr, "ftpsd: no domain '{}' in {} (the names of its [[domains]], or \"default\")\n", domain,
             cfg.source.string());
  return std::nullopt;
}

// Connected to the cluster database. nullopt: printed why.
std::optional<cluster::Connection> open_database(const config::Config& cfg) {
  if (!cfg.cluster) {
    fmt::print(stderr, "ftpsd: {} has no [cluster] table\n", cfg.source.string());
    return std::nullopt;
  }
  auto password = cluster::cluster_password(*cfg.cluster);
  if (!password) {
    fmt::print(stderr, "ftpsd: {}\n", password.error());
    return std::nullopt;
  }
  auto db = cluster::Connection::open(*cfg.cluster, *password);
  if (!db) {
    fmt::print(stderr, "ftpsd: cannot connect to the cluster database: {}\n", db.error().message);
    return std::nullopt;
  }
  return std::move(*db);
}

// Connected, with the schema brought up to date (as the server does at start). nullopt: printed why.
std::optional<cluster::Connection> connect(const config::Config& cfg) {
  auto db = open_database(cfg);
  if (!db) return std::nullopt;
  if (auto migrated = cluster::migrate(*db); !migrated) {
    fmt::print(stderr, "ftpsd: cluster database: {}\n", migrated.error().message);
    return std::nullopt;
  }
  return std::move(*db);
}

void print_db_error(const cluster::DbError& e) {
  fmt::print(stderr, "ftpsd: cluster database: {}\n", e.message);
}

// What the user commands and export work on: the domain they name, and the database.
struct Target {
  std::string domain;
  cluster::Connection db;
};

// Error: the exit code (printed why): 2 for a domain that does not exist, 1 for the database.
Result<Target, int> target(const config::Config& cfg, const std::string& domain_name) {
  auto domain = domain_of(cfg, domain_name);
  if (!domain) return Unexpected{2};
  auto db = connect(cfg);
  if (!db) return Unexpected{1};
  return Target{.domain = std::move(*domain), .db = std::move(*db)};
}

}  // namespace

int cmd_cluster_init(const config::Config& cfg) {
  auto db = open_database(cfg);
  if (!db) return cfg.cluster ? 1 : 2;
  auto migrated = cluster::migrate(*db);
  if (!migrated) {
    print_db_error(migrated.error());
    return 1;
  }
  if (migrated->before == 0)
    fmt::print("cluster database: schema created (version {})\n", migrated->after);
  else if (migrated->before != migrated->after)
    fmt::print("cluster database: schema migrated from version {} to {}\n", migrated->before,
               migrated->after);
  else
    fmt::print("cluster database: schema already at version {}; nothing to do\n", migrated->after);
  return 0;
}

int cmd_cluster_import(const config::Config& cfg, const std::string& users_file,
                       const std::string& domain_name) {
  const auto domain = domain_of(cfg, domain_name);
  if (!domain) return 2;
  // Absolute: the users' roots are relative to the file's folder, and the database keeps absolute ones.
  auto store = auth::UserStore::load(std::filesystem::absolute(users_file));
  if (!store) {
    fmt::print(stderr, "ftpsd: {}\n", store.error().message);
    return 2;
  }
  auto db = connect(cfg);
  if (!db) return 1;
  // All or nothing: one transaction.
  if (auto begun = db->exec("BEGIN"); !begun) {
    print_db_error(begun.error());
    return 1;
  }
  std::vector<std::string> lines;
  std::size_t added = 0;
  for (const auto& [name, user] : store->all()) {
    auto put = cluster::put_user(*db, *domain, user);
    if (!put) {
      (void)db->exec("ROLLBACK");
      print_db_error(put.error());
      fmt::print(stderr, "ftpsd: nothing imported\n");
      return 1;
    }
    if (*put == cluster::Upsert::kAdded) {
      ++added;
      lines.push_back(fmt::format("added user {}", name));
    } else {
      lines.push_back(
          fmt::format("updated user {} (it existed in domain {}: its keys were replaced)", name, *domain));
    }
  }
  if (auto committed = db->exec("COMMIT"); !committed) {
    print_db_error(committed.error());
    return 1;
  }
  for (const auto& line : lines) fmt::print("{}\n", line);
  fmt::print("imported {} users from {} into domain {}: {} added, {} updated\n", store->all().size(),
             users_file, *domain, added, store->all().size() - added);
  return 0;
}

int cmd_cluster_export(const config::Config& cfg, const std::string& domain_name,
                       const std::string& users_file) {
  auto t = target(cfg, domain_name);
  if (!t) return t.error();
  const std::string& domain = t->domain;
  auto users = cluster::list_users(t->db, domain);
  if (!users) {
    print_db_error(users.error());
    return 1;
  }
  const std::string text = auth::users_file_text(
      *users,
      fmt::format(
          "The users of domain {} in the cluster database (node {}), written by `ftpsd cluster "
          "export`.\nA users file: [users] file = ... reads it; `ftpsd cluster import` loads it back.",
          domain, cfg.cluster->node));
  if (users_file.empty()) {
    fmt::print("{}", text);
    return 0;
  }
  if (auto written = auth::write_atomically(users_file, text); !written) {
    fmt::print(stderr, "ftpsd: {}\n", written.error());
    return 1;
  }
  fmt::print("exported {} users of domain {} to {}\n", users->size(), domain, users_file);
  return 0;
}

int cmd_cluster_user_add(const config::Config& cfg, const std::string& domain_name, const auth::User& user) {
  if (!auth::valid_user_name(user.name)) {
    fmt::print(stderr, "ftpsd: '{}' is not a valid user name\n", user.name);
    return 2;
  }
  auto t = target(cfg, domain_name);
  if (!t) return t.error();
  const std::string& domain = t->domain;
  auto added = cluster::add_user(t->db, domain, user);
  if (!added) {
    print_db_error(added.error());
    return 1;
  }
  if (!*added) {
    fmt::print(stderr, "ftpsd: user '{}' already exists in domain {} of the cluster database\n", user.name,
               domain);
    return 1;
  }
  fmt::print("added user {} (root {}, {}) to domain {} of the cluster database\n", user.name,
             user.root.string(), user.write ? "read-write" : "read-only", domain);
  return 0;
}

int cmd_cluster_user_list(const config::Config& cfg, const std::string& domain_name) {
  auto t = target(cfg, domain_name);
  if (!t) return t.error();
  const std::string& domain = t->domain;
  auto users = cluster::list_users(t->db, domain);
  if (!users) {
    print_db_error(users.error());
    return 1;
  }
  for (const auto& u : *users)
    fmt::print("{}\t{}\t{}\n", u.name, u.write ? "read-write" : "read-only", u.root.string());
  return 0;
}

int cmd_cluster_user_remove(const config::Config& cfg, const std::string& domain_name,
                            const std::string& name) {
  auto t = target(cfg, domain_name);
  if (!t) return t.error();
  const std::string& domain = t->domain;
  auto removed = cluster::remove_user(t->db, domain, name);
  if (!removed) {
    print_db_error(removed.error());
    return 1;
  }
  if (!*removed) {
    fmt::print(stderr, "ftpsd: no user '{}' in domain {} of the cluster database\n", name, domain);
    return 1;
  }
  fmt::print("removed user {} from domain {} of the cluster database\n", name, domain);
  return 0;
}

namespace {

// The nodes that have not stopped, with their plans. Error: printed.
std::optional<std::vector<tools::ClusterNode>> running_nodes(cluster::Connection& db) {
  auto rows = db.exec(fmt::format(
      "SELECT name, plan::text, extract(epoch from now() - heartbeat_at) FROM nodes WHERE stopped_at IS NULL "
      "ORDER BY name"));
  if (!rows) {
    print_db_error(rows.error());
    return std::nullopt;
  }
  std::vector<tools::ClusterNode> out;
  for (int i = 0; i < rows->count(); ++i) {
    const double age = std::stod(rows->text(i, 2));
    out.push_back(tools::ClusterNode{.name = rows->text(i, 0),
                                     .plan_json = rows->text(i, 1),
                                     .down = age > std::chrono::duration<double>(cluster::kDownAfter).count(),
                                     .heartbeat_age_seconds = age});
  }
  return out;
}

}  // namespace

int cmd_cluster_firewall(const config::Config& cfg, const std::string& format,
                         const std::string& public_address, const std::vector<std::string>& control_ports) {
  if (format != "all" && format != "text" && format != "haproxy" && format != "nftables") {
    fmt::print(stderr,
               "ftpsd: --cluster: unknown format '{}': use all (the default), text, haproxy or nftables\n",
               format);
    return 2;
  }
  tools::LbOptions options;
  if (!public_address.empty()) {
    std::error_code ec;
    const auto a = asio::ip::make_address(public_address, ec);
    if (ec || !a.is_v4()) {
      fmt::print(stderr, "ftpsd: --public needs the load balancer's public IPv4 address, not '{}'\n",
                 public_address);
      return 2;
    }
    options.public_address = a.to_string();
  }
  for (const auto& text : control_ports) {
    const auto mapped = tools::parse_control_port(text);
    if (!mapped) {
      fmt::print(stderr, "ftpsd: --control-port '{}': expected NODEPORT=PUBLICPORT, such as 2121=21\n", text);
      return 2;
    }
    options.control_ports[mapped->first] = mapped->second;
  }
  if (!cfg.cluster) {
    fmt::print(stderr,
               "ftpsd: {} has no [cluster] table: --cluster reads the nodes from the cluster database; give "
               "the configuration of a node\n",
               cfg.source.string());
    return 2;
  }
  auto db = connect(cfg);
  if (!db) return 1;
  auto nodes = running_nodes(*db);
  if (!nodes) return 1;
  if (nodes->empty()) {
    fmt::print(
        stderr,
        "ftpsd: no node is registered in the cluster database (or every node stopped): start the nodes "
        "first\n");
    return 1;
  }
  const auto plan = tools::plan_load_balancer(*nodes, options);
  for (const auto& w : plan.warnings) fmt::print(stderr, "ftpsd: warning: {}\n", w);
  for (const auto& e : plan.errors) fmt::print(stderr, "ftpsd: error: {}\n", e);
  if (!plan.errors.empty()) {
    fmt::print(stderr,
               "ftpsd: no configuration written: fix the errors above in the nodes' configurations\n");
    return 2;
  }
  if (format == "text")
    fmt::print("{}", tools::render_lb_text(plan));
  else if (format == "haproxy")
    fmt::print("{}", tools::render_haproxy(plan));
  else if (format == "nftables")
    fmt::print("{}", tools::render_lb_nftables(plan));
  else
    fmt::print("{}", tools::render_lb_all(plan));
  return 0;
}

}  // namespace ftpsd::app
