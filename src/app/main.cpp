// ftpsd command line: run, check-config, reload, config, firewall, doctor, user, admin, cert, cluster.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "app/cluster_commands.hpp"
#include "app/config_commands.hpp"
#include "app/privileges.hpp"
#include "app/server.hpp"
#include "auth/admin_store.hpp"
#include "auth/password.hpp"
#include "auth/user_store.hpp"
#include "config/loader.hpp"
#include "obs/log.hpp"
#include "sys/syscalls.hpp"
#include "tls/self_signed.hpp"
#include "tools/config_check.hpp"
#include "tools/doctor.hpp"
#include "tools/nat_commands.hpp"

namespace {

using namespace ftpsd;

Result<config::Config, config::ConfigError> load(const std::string& file) {
  return config::load_file_or_default(file);
}

// load(), or nullopt after printing why the configuration does not load.
std::optional<config::Config> load_or_report(const std::string& file) {
  auto cfg = load(file);
  if (!cfg) {
    fmt::print(stderr, "ftpsd: {}\n", cfg.error().message);
    return std::nullopt;
  }
  return std::move(*cfg);
}

int cmd_run(const std::string& config_file, bool connect_help) {
  auto cfg = load_or_report(config_file);
  if (!cfg) return 2;
  // An unknown server.user is a configuration error, found before anything is bound.
  if (auto id = tools::service_identity(*cfg); !id) {
    fmt::print(stderr, "ftpsd: {}\n", id.error());
    return 2;
  }
  obs::init_logging(cfg->log.level);
  if (auto logging = obs::configure_logging(cfg->log); !logging) {
    fmt::print(stderr, "ftpsd: {}\n", logging.error());
    return 1;
  }
  return app::run_server(std::make_shared<const config::Config>(std::move(*cfg)), connect_help);
}

// Everything check-config checks (tools::check_config_file); what is wrong is printed as check-config
// prints it, and so are the NAT lint's warnings.
std::optional<config::Config> load_checked(const std::string& file) {
  auto checked = tools::check_config_file(file);
  if (!checked) {
    for (const auto& line : checked.error().report) fmt::print(stderr, "{}\n", line);
    return std::nullopt;
  }
  tools::print_nat_findings(checked->config, checked->warnings);
  return std::move(checked->config);
}

// Checks the configuration as `check-config` does, then sends SIGHUP to the running server (its pid
// from --pid or server.pid_file). The server logs whether it applied the configuration.
int cmd_reload(const std::string& file, int pid) {
  auto cfg = load_checked(file);
  if (!cfg) return 2;
  if (pid <= 0) {
    if (cfg->server.pid_file.empty()) {
      fmt::print(stderr,
                 "ftpsd: no server to signal: set server.pid_file in {} or give --pid (under systemd: "
                 "systemctl reload ftpsd)\n",
                 file);
      return 2;
    }
    std::ifstream in(cfg->server.pid_file);
    if (!(in >> pid) || pid <= 0) {
      fmt::print(stderr, "ftpsd: cannot read a process id from server.pid_file {} (is ftpsd running?)\n",
                 cfg->server.pid_file.string());
      return 1;
    }
  }
  if (auto ec = sys::send_signal(pid, SIGHUP)) {
    fmt::print(stderr, "ftpsd: cannot signal process {}: {}\n", pid, ec.message());
    return 1;
  }
  fmt::print("{}: configuration ok; asked ftpsd (pid {}) to reload it (the server's log says the outcome)\n",
             file, pid);
  return 0;
}

int cmd_check_config(const std::string& file) {
  if (!load_checked(file)) return 2;
  fmt::print("{}: configuration ok\n", file);
  return 0;
}

std::filesystem::path users_file(const std::string& file, const std::string& config_file) {
  if (!file.empty()) return file;
  auto cfg = load(config_file);
  if (cfg && !cfg->users.file.empty()) return cfg->users.file;
  return "users.toml";
}

// With --config naming a configuration with [cluster] (and no --file): the cluster database's users.
std::optional<config::Config> cluster_config(const std::string& file, const std::string& config_file) {
  if (!file.empty() || config_file.empty()) return std::nullopt;
  auto cfg = load(config_file);
  if (!cfg || !cfg->cluster) return std::nullopt;
  return std::move(*cfg);
}

int cmd_user_add(const std::string& name, const std::string& root, bool write,
                 const std::filesystem::path& file, const std::optional<config::Config>& cluster,
                 const std::string& domain) {
  if (isatty(STDIN_FILENO)) fmt::print(stderr, "Password for {} (one line on standard input): ", name);
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    fmt::print(stderr, "ftpsd: no password on standard input\n");
    return 2;
  }
  auto hash = auth::hash_password(password);
  if (!hash) {
    fmt::print(stderr, "ftpsd: {}\n", hash.error());
    return 1;
  }
  auth::User user{
      .name = name, .password_hash = *hash, .root = std::filesystem::absolute(root), .write = write};
  if (cluster) return app::cmd_cluster_user_add(*cluster, domain, user);
  auto added = auth::add_user(file, user);
  if (!added) {
    fmt::print(stderr, "ftpsd: {}\n", added.error());
    return 1;
  }
  fmt::print("added user {} (root {}, {}) to {}\n", name, user.root.string(),
             write ? "read-write" : "read-only", file.string());
  return 0;
}

std::filesystem::path admins_file(const std::string& file, const std::string& config_file) {
  if (!file.empty()) return file;
  auto cfg = load(config_file);
  if (cfg && !cfg->admin.users_file.empty()) return cfg->admin.users_file;
  return "admins.toml";
}

int cmd_admin_add(const std::string& name, const std::string& role_name, const std::filesystem::path& file) {
  const auto role = auth::parse_admin_role(role_name);
  if (!role) {
    fmt::print(stderr, "ftpsd: --role must be admin, operator or viewer, not '{}'\n", role_name);
    return 2;
  }
  if (isatty(STDIN_FILENO)) fmt::print(stderr, "Password for {} (one line on standard input): ", name);
  std::string password;
  if (!std::getline(std::cin, password) || password.empty()) {
    fmt::print(stderr, "ftpsd: no password on standard input\n");
    return 2;
  }
  auto hash = auth::hash_password(password);
  if (!hash) {
    fmt::print(stderr, "ftpsd: {}\n", hash.error());
    return 1;
  }
  if (auto added = auth::add_admin(file, {.name = name, .password_hash = *hash, .role = *role}); !added) {
    fmt::print(stderr, "ftpsd: {}\n", added.error());
    return 1;
  }
  fmt::print("added admin {} (role {}) to {}\n", name, auth::name(*role), file.string());
  return 0;
}

int cmd_doctor(const std::string& url, bool implicit, int ports, bool no_host,
               const std::string& connect_to) {
  auto target = tools::parse_doctor_url(url, implicit);
  if (!target) {
    fmt::print(stderr, "ftpsd: {}\n", target.error());
    return 2;
  }
  std::string password;
  if (const char* env = std::getenv("FTPSD_PASSWORD")) {
    password = env;
  } else {
    if (isatty(STDIN_FILENO)) fmt::print(stderr, "Password for {}: ", target->user);
    std::getline(std::cin, password);
  }
  return tools::run_doctor({.target = *target,
                            .password = password,
                            .passive_ports = ports,
                            .send_host = !no_host,
                            .connect_to = connect_to});
}

int cmd_user_remove(const std::string& name, const std::filesystem::path& file) {
  auto r = auth::remove_user(file, name);
  if (!r) {
    fmt::print(stderr, "ftpsd: {}\n", r.error());
    return 1;
  }
  fmt::print("removed user {} from {}\n", name, file.string());
  return 0;
}

int cmd_user_list(const std::filesystem::path& file) {
  auto store = auth::UserStore::load(file);
  if (!store) {
    fmt::print(stderr, "ftpsd: {}\n", store.error().message);
    return 1;
  }
  for (const auto& [n, u] : store->all())
    fmt::print("{}\t{}\t{}\n", n, u.write ? "read-write" : "read-only", u.root.string());
  return 0;
}

int cmd_cert_self_signed(const std::vector<std::string>& hosts, const std::string& cert_file,
                         const std::string& key_file, int days) {
  auto written = tls::write_self_signed(hosts, cert_file, key_file, days);
  if (!written) {
    fmt::print(stderr, "ftpsd: {}\n", written.error());
    return 1;
  }
  fmt::print("wrote {} and {}\n", cert_file, key_file);
  return 0;
}

// --- the command line: each subcommand declares its options and, as its CLI11 callback, what it runs
// once the command line is parsed; the callback sets the process exit code.

void add_run(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config_file;
    bool connect_help = false;
  };
  auto o = std::make_shared<Options>();
  auto* run =
      app.add_subcommand("run", "Run the server (without --config: the embedded default for `make run`)");
  run->add_option("-c,--config", o->config_file, "Configuration file (TOML)")->check(CLI::ExistingFile);
  run->add_flag("--connect-help", o->connect_help,
                "Print how to connect to the demo of `make run` (always without --config)");
  run->callback(
      [o, &exit_code] { exit_code = cmd_run(o->config_file, o->connect_help || o->config_file.empty()); });
}

void add_check_config(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto* check = app.add_subcommand(
      "check-config",
      "Validate a configuration file, its users file, certificates and keys, and its NAT set-up");
  check->add_option("file", *file, "Configuration file (TOML)")->required();
  check->callback([file, &exit_code] { exit_code = cmd_check_config(*file); });
}

void add_reload(CLI::App& app, int& exit_code) {
  struct Options {
    std::string file;
    int pid = 0;
  };
  auto o = std::make_shared<Options>();
  auto* reload = app.add_subcommand(
      "reload", "Check a configuration file, then tell the running server to reload it (SIGHUP)");
  reload->add_option("-c,--config", o->file, "Configuration file (TOML) the server runs with")
      ->required()
      ->check(CLI::ExistingFile);
  reload->add_option("--pid", o->pid, "Process id of the server (default: from server.pid_file)");
  reload->callback([o, &exit_code] { exit_code = cmd_reload(o->file, o->pid); });
}

// ftpsd config init|set|unset|revisions|restore: the configuration file changed by a command
// (config_commands).
void add_config(CLI::App& app, int& exit_code) {
  struct Options {
    std::string file;
    std::string domain;
    std::vector<std::string> args;
    unsigned revision = 0;
    bool reload = false;
  };
  auto o = std::make_shared<Options>();
  auto* config = app.add_subcommand(
      "config", "Change the configuration file from the command line: checked first, the previous text kept");
  config->require_subcommand(1);
  // After a change that was written: --reload asks the running server to apply it.
  auto then_reload = [o, &exit_code](int code) {
    exit_code = code == 0 && o->reload ? cmd_reload(o->file, 0) : code;
  };
  auto* set = config->add_subcommand(
      "set",
      "Set keys: KEY VALUE [KEY VALUE ...], e.g. passive.address 203.0.113.7 passive.ports 50000-50099");
  auto* unset =
      config->add_subcommand("unset", "Remove keys (back to their defaults, or to the top level's)");
  auto* revisions = config->add_subcommand("revisions", "List the kept revisions of the file");
  auto* init = config->add_subcommand("init", "Write the embedded default configuration to a new file");
  init->add_option("file", o->file, "The file to write (never over an existing one)")->required();
  init->callback([o, &exit_code] { exit_code = app::cmd_config_init(o->file); });
  auto* restore = config->add_subcommand("restore", "Bring back a revision (the current text becomes one)");
  for (auto* sub : {set, unset, revisions, restore})
    sub->add_option("-c,--config", o->file, "Configuration file (TOML)")
        ->required()
        ->check(CLI::ExistingFile);
  for (auto* sub : {set, unset}) {
    sub->add_option("--domain", o->domain, "The keys of this domain (default: the top level's)");
    sub->add_option("keys", o->args, set == sub ? "KEY VALUE pairs" : "KEYs")->required();
  }
  for (auto* sub : {set, unset, restore})
    sub->add_flag("--reload", o->reload, "Then tell the running server to reload (as `ftpsd reload`)");
  restore->add_option("revision", o->revision, "Revision number (`ftpsd config revisions`)")->required();
  set->callback([o, then_reload] { then_reload(app::cmd_config_set(o->file, o->args, o->domain)); });
  unset->callback([o, then_reload] { then_reload(app::cmd_config_unset(o->file, o->args, o->domain)); });
  revisions->callback([o, &exit_code] { exit_code = app::cmd_config_revisions(o->file); });
  restore->callback([o, then_reload] { then_reload(app::cmd_config_restore(o->file, o->revision)); });
}

void add_firewall(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config;
    std::string format = "text";
    std::string nat_to;
    std::string domain;
    bool cluster = false;
    std::string public_address;
    std::vector<std::string> control_ports;
  };
  auto o = std::make_shared<Options>();
  auto* firewall =
      app.add_subcommand("firewall", "What to open on the firewall for a configuration, and rules");
  firewall->add_option("-c,--config", o->config, "Configuration file (default: the embedded one)")
      ->check(CLI::ExistingFile);
  auto* format = firewall->add_option("--format", o->format,
                                      "text, nftables, iptables, ufw or firewalld; with --cluster: all (its "
                                      "default), text, haproxy or nftables");
  format->capture_default_str();
  firewall->add_option("--nat-to", o->nat_to,
                       "nftables: router rules forwarding to this internal server IPv4");
  firewall->add_option(
      "--domain", o->domain,
      "Only what this domain needs (\"default\": the top-level settings; default: every domain)");
  firewall->add_flag(
      "--cluster", o->cluster,
      "The load balancer in front of the cluster of --config's [cluster], from the nodes table: "
      "an HAProxy configuration and an nftables ruleset (--format all, text, haproxy or nftables)");
  firewall->add_option("--public", o->public_address,
                       "With --cluster: the balancer's public IPv4 address (default: every address it has)");
  firewall->add_option("--control-port", o->control_ports,
                       "With --cluster: NODEPORT=PUBLICPORT, the public port of the nodes' control port "
                       "NODEPORT (default: the same port); repeatable");
  firewall->callback([o, format, &exit_code] {
    if (!o->cluster && (!o->public_address.empty() || !o->control_ports.empty())) {
      fmt::print(stderr, "ftpsd: --public and --control-port go with --cluster\n");
      exit_code = 2;
      return;
    }
    if (o->cluster && (!o->nat_to.empty() || !o->domain.empty() || o->config.empty())) {
      fmt::print(stderr,
                 "ftpsd: --cluster needs --config (a node's configuration, with [cluster]) and takes "
                 "neither --nat-to nor --domain\n");
      exit_code = 2;
      return;
    }
    auto cfg = load_or_report(o->config);
    if (!cfg) {
      exit_code = 2;
      return;
    }
    if (o->cluster) {
      // "text" is the default of the single server's plan; the cluster's default is everything.
      exit_code = app::cmd_cluster_firewall(*cfg, format->count() == 0 ? "all" : o->format, o->public_address,
                                            o->control_ports);
      return;
    }
    exit_code = tools::cmd_firewall(*cfg, o->format, o->nat_to, o->domain);
  });
}

void add_doctor(CLI::App& app, int& exit_code) {
  struct Options {
    std::string url;
    bool implicit = false;
    int ports = 3;
    bool no_host = false;
    std::string connect_to;
  };
  auto o = std::make_shared<Options>();
  auto* doctor = app.add_subcommand(
      "doctor",
      "Check a server from this client's side: connect, TLS, login, passive ports, transfers, active mode");
  doctor->add_option("url", o->url, "ftp://user@host[:port] or ftps://user@host[:port]")->required();
  doctor->add_flag("--implicit", o->implicit, "Implicit FTPS (TLS from the first byte; default port 990)");
  doctor->add_option("--ports", o->ports, "Passive data connections to try")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  doctor->add_flag("--no-host", o->no_host, "Do not send HOST with the URL's host name after the greeting");
  doctor->add_option(
      "--connect-to", o->connect_to,
      "Connect to this address instead of the URL's host (still sent as HOST and SNI, and checked "
      "against the certificate): a domain before its DNS name points here");
  doctor->footer(
      "The password is read from the FTPSD_PASSWORD environment variable, else from standard input.");
  doctor->callback(
      [o, &exit_code] { exit_code = cmd_doctor(o->url, o->implicit, o->ports, o->no_host, o->connect_to); });
}

void add_user(CLI::App& app, int& exit_code) {
  struct Options {
    std::string file;
    std::string config;
    std::string name;
    std::string root;
    std::string domain;
    bool write = false;
    [[nodiscard]] std::filesystem::path path() const { return users_file(file, config); }
    [[nodiscard]] std::optional<config::Config> cluster() const { return cluster_config(file, config); }
  };
  auto o = std::make_shared<Options>();
  auto* user = app.add_subcommand("user", "Manage the users file");
  user->require_subcommand(1);
  auto* add = user->add_subcommand("add", "Add a user; the password is read from standard input");
  add->add_option("name", o->name, "User name")->required();
  add->add_option("--root", o->root, "The user's root folder")->required();
  add->add_flag("--write", o->write, "Allow uploads, deletes and renames");
  add->callback([o, &exit_code] {
    exit_code = cmd_user_add(o->name, o->root, o->write, o->path(), o->cluster(), o->domain);
  });
  auto* list = user->add_subcommand("list", "List the users");
  list->callback([o, &exit_code] {
    const auto cluster = o->cluster();
    exit_code = cluster ? app::cmd_cluster_user_list(*cluster, o->domain) : cmd_user_list(o->path());
  });
  auto* remove = user->add_subcommand("remove", "Remove a user");
  remove->add_option("name", o->name, "User name")->required();
  remove->callback([o, &exit_code] {
    const auto cluster = o->cluster();
    exit_code = cluster ? app::cmd_cluster_user_remove(*cluster, o->domain, o->name)
                        : cmd_user_remove(o->name, o->path());
  });
  for (auto* sub : {add, list, remove}) {
    sub->add_option("-f,--file", o->file, "Users file (default: users.file of --config, else ./users.toml)");
    sub->add_option("-c,--config", o->config,
                    "Configuration file naming the users file; with [cluster]: the cluster database's users");
    sub->add_option("--domain", o->domain, "With [cluster]: the users of this domain (default: \"default\")");
  }
}

void add_admin(CLI::App& app, int& exit_code) {
  struct Options {
    std::string file;
    std::string config;
    std::string name;
    std::string role;
  };
  auto o = std::make_shared<Options>();
  auto* admin = app.add_subcommand("admin", "Manage the accounts of the Manager (admin.users_file)");
  admin->require_subcommand(1);
  auto* add = admin->add_subcommand("add", "Add an account; the password is read from standard input");
  add->add_option("name", o->name, "Account name")->required();
  add->add_option("--role", o->role, "admin, operator or viewer")->required();
  add->add_option("-f,--file", o->file,
                  "Admins file (default: admin.users_file of --config, else ./admins.toml)");
  add->add_option("-c,--config", o->config, "Configuration file naming the admins file");
  add->callback(
      [o, &exit_code] { exit_code = cmd_admin_add(o->name, o->role, admins_file(o->file, o->config)); });
}

void add_cert(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> hosts;
    std::string cert_file = "cert.pem";
    std::string key_file = "key.pem";
    int days = 365;
  };
  auto o = std::make_shared<Options>();
  auto* cert = app.add_subcommand("cert", "Certificates");
  cert->require_subcommand(1);
  auto* self_signed =
      cert->add_subcommand("self-signed", "Write an ECDSA P-256 self-signed certificate and key");
  self_signed->add_option("--host", o->hosts, "DNS name or IP address (repeatable; the first is the CN)")
      ->required();
  self_signed->add_option("--cert", o->cert_file, "Certificate file to write (PEM)")->capture_default_str();
  self_signed->add_option("--key", o->key_file, "Private key file to write (PEM, mode 0600)")
      ->capture_default_str();
  self_signed->add_option("--days", o->days, "Validity in days")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  self_signed->callback(
      [o, &exit_code] { exit_code = cmd_cert_self_signed(o->hosts, o->cert_file, o->key_file, o->days); });
}

// ftpsd cluster init|import|export: the cluster database of a configuration with [cluster].
void add_cluster(CLI::App& app, int& exit_code) {
  struct Options {
    std::string config;
    std::string users;
    std::string domain;
  };
  auto o = std::make_shared<Options>();
  auto* cluster =
      app.add_subcommand("cluster", "The cluster database ([cluster]): schema, users import and export");
  cluster->require_subcommand(1);
  auto* init = cluster->add_subcommand("init", "Create the database's tables, or migrate them (idempotent)");
  auto* import =
      cluster->add_subcommand("import", "Load a users file into the database (existing names: updated)");
  auto* export_ =
      cluster->add_subcommand("export", "Write a domain's users as a users file (default: standard output)");
  for (auto* sub : {init, import, export_})
    sub->add_option("-c,--config", o->config, "Configuration file with [cluster]")
        ->required()
        ->check(CLI::ExistingFile);
  import->add_option("--users", o->users, "Users file to load")->required()->check(CLI::ExistingFile);
  export_->add_option("--users", o->users, "Users file to write (mode 0600)");
  for (auto* sub : {import, export_})
    sub->add_option("--domain", o->domain, "The users of this domain (default: \"default\")");
  auto with_config = [o, &exit_code](auto command) {
    auto cfg = load_or_report(o->config);
    exit_code = cfg ? command(*cfg) : 2;
  };
  init->callback(
      [with_config] { with_config([](const config::Config& c) { return app::cmd_cluster_init(c); }); });
  import->callback([o, with_config] {
    with_config([o](const config::Config& c) { return app::cmd_cluster_import(c, o->users, o->domain);
});
}  // namespace
);
export_->callback([o, with_config] {
  with_config([o](const config::Config& c) { return app::cmd_cluster_export(c, o->domain, o->users); });
});
}

}  // namespace

// An exception nothing catches ends the process in std::terminate: the core dump shows where it was
// thrown, and systemd restarts the server.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"ftpsd: a fast, secure FTP/FTPS server for life behind firewalls and NAT"};
  app.set_version_flag("--version", std::string("ftpsd ") + FTPSD_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  add_run(app, exit_code);
  add_check_config(app, exit_code);
  add_reload(app, exit_code);
  add_firewall(app, exit_code);
  add_config(app, exit_code);
  add_doctor(app, exit_code);
  add_user(app, exit_code);
  add_admin(app, exit_code);
  add_cert(app, exit_code);
  add_cluster(app, exit_code);
  CLI11_PARSE(app, argc, argv);  // runs the chosen subcommand's callback
  return exit_code;
}
