// ftpsd command line: run, check-config, user add|list|remove.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "app/privileges.hpp"
#include "app/server.hpp"
#include "auth/password.hpp"
#include "auth/user_store.hpp"
#include "config/loader.hpp"
#include "obs/log.hpp"
#include "sys/syscalls.hpp"
#include "tls/context.hpp"
#include "tls/self_signed.hpp"
#include "tools/doctor.hpp"
#include "tools/nat_commands.hpp"

namespace {

using namespace ftpsd;

Result<config::Config, config::ConfigError> load(const std::string& file) {
  if (file.empty()) return config::load_string(config::embedded_default(), "<embedded default>", ".");
  return config::load_file(file);
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

int cmd_run(const std::string& config_file) {
  auto cfg = load_or_report(config_file);
  if (!cfg) return 2;
  // An unknown server.user is a configuration error, found before anything is bound.
  if (auto id = app::service_identity(*cfg); !id) {
    fmt::print(stderr, "ftpsd: {}\n", id.error());
    return 2;
  }
  obs::init_logging(cfg->log.level);
  if (auto logging = obs::configure_logging(cfg->log); !logging) {
    fmt::print(stderr, "ftpsd: {}\n", logging.error());
    return 1;
  }
  return app::run_server(std::make_shared<const config::Config>(std::move(*cfg)), config_file.empty());
}

// The configuration, its users file and its certificates and keys, each loaded as `run` loads them;
// errors are printed (file:line: key ..., or the file that does not load and why).
std::optional<config::Config> load_checked(const std::string& file) {
  auto cfg = load(file);
  if (!cfg) {
    fmt::print(stderr, "{}\n", cfg.error().message);
    return std::nullopt;
  }
  if (!cfg->users.file.empty()) {
    if (auto users = auth::UserStore::load(cfg->users.file); !users) {
      fmt::print(stderr, "{}\n", users.error().message);
      return std::nullopt;
    }
  }
  if (cfg->tls.configured()) {
    if (auto tls = tls::ServerContext::create(cfg->tls); !tls) {
      fmt::print(stderr, "{}\n", tls.error());
      return std::nullopt;
    }
  }
  return std::move(*cfg);
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
  auto cfg = load_checked(file);
  if (!cfg) return 2;
  if (auto id = app::service_identity(*cfg); !id) {
    fmt::print(stderr, "{}\n", id.error());
    return 2;
  }
  if (!tools::print_nat_lint(*cfg)) return 2;
  fmt::print("{}: configuration ok\n", file);
  return 0;
}

std::filesystem::path users_file(const std::string& file, const std::string& config_file) {
  if (!file.empty()) return file;
  auto cfg = load(config_file);
  if (cfg && !cfg->users.file.empty()) return cfg->users.file;
  return "users.toml";
}

int cmd_user_add(const std::string& name, const std::string& root, bool write,
                 const std::filesystem::path& file) {
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
  auto added = auth::add_user(file, user);
  if (!added) {
    fmt::print(stderr, "ftpsd: {}\n", added.error());
    return 1;
  }
  fmt::print("added user {} (root {}, {}) to {}\n", name, user.root.string(),
             write ? "read-write" : "read-only", file.string());
  return 0;
}

int cmd_doctor(const std::string& url, bool implicit, int ports) {
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
  return tools::run_doctor({.target = *target, .password = password, .passive_ports = ports});
}

}  // namespace

// An exception nothing catches ends the process in std::terminate: the core dump shows where it was
// thrown, and systemd restarts the server.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"ftpsd: a fast, secure FTP/FTPS server for life behind firewalls and NAT"};
  app.set_version_flag("--version", std::string("ftpsd ") + FTPSD_VERSION);
  app.require_subcommand(1);

  std::string config_file;
  auto* run =
      app.add_subcommand("run", "Run the server (without --config: the embedded default for `make run`)");
  run->add_option("-c,--config", config_file, "Configuration file (TOML)")->check(CLI::ExistingFile);

  std::string check_file;
  auto* check = app.add_subcommand(
      "check-config",
      "Validate a configuration file, its users file, certificates and keys, and its NAT set-up");
  check->add_option("file", check_file, "Configuration file (TOML)")->required();

  std::string reload_file;
  int reload_pid = 0;
  auto* reload = app.add_subcommand(
      "reload", "Check a configuration file, then tell the running server to reload it (SIGHUP)");
  reload->add_option("-c,--config", reload_file, "Configuration file (TOML) the server runs with")
      ->required()
      ->check(CLI::ExistingFile);
  reload->add_option("--pid", reload_pid, "Process id of the server (default: from server.pid_file)");

  std::string fw_config;
  std::string fw_format = "text";
  std::string fw_nat_to;
  auto* firewall =
      app.add_subcommand("firewall", "What to open on the firewall for a configuration, and rules");
  firewall->add_option("-c,--config", fw_config, "Configuration file (default: the embedded one)")
      ->check(CLI::ExistingFile);
  firewall->add_option("--format", fw_format, "text, nftables, iptables, ufw or firewalld")
      ->capture_default_str();
  firewall->add_option("--nat-to", fw_nat_to,
                       "nftables: router rules forwarding to this internal server IPv4");

  std::string doctor_url;
  bool doctor_implicit = false;
  int doctor_ports = 3;
  auto* doctor = app.add_subcommand(
      "doctor",
      "Check a server from this client's side: connect, TLS, login, passive ports, transfers, active mode");
  doctor->add_option("url", doctor_url, "ftp://user@host[:port] or ftps://user@host[:port]")->required();
  doctor->add_flag("--implicit", doctor_implicit,
                   "Implicit FTPS (TLS from the first byte; default port 990)");
  doctor->add_option("--ports", doctor_ports, "Passive data connections to try")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  doctor->footer(
      "The password is read from the FTPSD_PASSWORD environment variable, else from standard input.");

  auto* user = app.add_subcommand("user", "Manage the users file");
  user->require_subcommand(1);
  std::string file;
  std::string user_config;
  std::string name;
  std::string root;
  bool write = false;
  auto* add = user->add_subcommand("add", "Add a user; the password is read from standard input");
  add->add_option("name", name, "User name")->required();
  add->add_option("--root", root, "The user's root folder")->required();
  add->add_flag("--write", write, "Allow uploads, deletes and renames");
  auto* list = user->add_subcommand("list", "List the users");
  auto* remove = user->add_subcommand("remove", "Remove a user");
  remove->add_option("name", name, "User name")->required();
  for (auto* sub : {add, list, remove}) {
    sub->add_option("-f,--file", file, "Users file (default: users.file of --config, else ./users.toml)");
    sub->add_option("-c,--config", user_config, "Configuration file naming the users file");
  }

  std::vector<std::string> hosts;
  std::string cert_file = "cert.pem";
  std::string key_file = "key.pem";
  int days = 365;
  auto* cert = app.add_subcommand("cert", "Certificates");
  cert->require_subcommand(1);
  auto* self_signed =
      cert->add_subcommand("self-signed", "Write an ECDSA P-256 self-signed certificate and key");
  self_signed->add_option("--host", hosts, "DNS name or IP address (repeatable; the first is the CN)")
      ->required();
  self_signed->add_option("--cert", cert_file, "Certificate file to write (PEM)")->capture_default_str();
  self_signed->add_option("--key", key_file, "Private key file to write (PEM, mode 0600)")
      ->capture_default_str();
  self_signed->add_option("--days", days, "Validity in days")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));

  CLI11_PARSE(app, argc, argv);

  if (*self_signed) {
    auto written = tls::write_self_signed(hosts, cert_file, key_file, days);
    if (!written) {
      fmt::print(stderr, "ftpsd: {}\n", written.error());
      return 1;
    }
    fmt::print("wrote {} and {}\n", cert_file, key_file);
    return 0;
  }

  if (*run) return cmd_run(config_file);
  if (*check) return cmd_check_config(check_file);
  if (*reload) return cmd_reload(reload_file, reload_pid);
  if (*doctor) return cmd_doctor(doctor_url, doctor_implicit, doctor_ports);
  if (*firewall) {
    auto cfg = load_or_report(fw_config);
    return cfg ? tools::cmd_firewall(*cfg, fw_format, fw_nat_to) : 2;
  }
  const auto path = users_file(file, user_config);
  if (*add) return cmd_user_add(name, root, write, path);
  if (*remove) {
    auto r = auth::remove_user(path, name);
    if (!r) {
      fmt::print(stderr, "ftpsd: {}\n", r.error());
      return 1;
    }
    fmt::print("removed user {} from {}\n", name, path.string());
    return 0;
  }
  if (*list) {
    auto store = auth::UserStore::load(path);
    if (!store) {
      fmt::print(stderr, "ftpsd: {}\n", store.error().message);
      return 1;
    }
    for (const auto& [n, u] : store->all())
      fmt::print("{}\t{}\t{}\n", n, u.write ? "read-write" : "read-only", u.root.string());
  }
  return 0;
}
