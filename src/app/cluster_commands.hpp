#pragma once
// The command line's side of [cluster] (README "Running a cluster"): `ftpsd cluster init|import|export`
// and `ftpsd user add|list|remove` when the configuration has [cluster]. Each returns the exit code
// (0 done; 1 not done, the reason printed on stderr; 2 a usage or configuration error).
#include <optional>
#include <string>
#include <vector>

#include "auth/user.hpp"
#include "config/config.hpp"

namespace ftpsd::app {

int cmd_cluster_init(const config::Config& cfg);
// `users_file`: a users file as the file store reads it; `domain` "" or "default": the top level's.
int cmd_cluster_import(const config::Config& cfg, const std::string& users_file, const std::string& domain);
// `users_file` empty: standard output.
int cmd_cluster_export(const config::Config& cfg, const std::string& domain, const std::string& users_file);

// `user`: its password already hashed (main.cpp reads it as for the users file).
int cmd_cluster_user_add(const config::Config& cfg, const std::string& domain, const auth::User& user);
int cmd_cluster_user_list(const config::Config& cfg, const std::string& domain);
int cmd_cluster_user_remove(const config::Config& cfg, const std::string& domain, const std::string& name);

// `ftpsd firewall --cluster`: the load balancer's HAProxy configuration and nftables ruleset from the
// nodes table. `format`: all (default), text, haproxy or nftables; `public_address`: the balancer's
// public IPv4 ("" any); `control_ports`: "NODEPORT=PUBLICPORT" each.
int cmd_cluster_firewall(const config::Config& cfg, const std::string& format,
                         const std::string& public_address, const std::vector<std::string>& control_ports);

}  // namespace ftpsd::app
