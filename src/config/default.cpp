#include "config/config.hpp"

namespace ftpsd::config {

std::string_view embedded_default() {
  return R"toml(# ftpsd embedded default: what `make run` serves. Relative paths are relative to this file's folder
# (the folder run/ of the current directory when ftpsd runs without --config).
[server]
max_sessions = 100     # one passive port each: the default passes its own NAT lint
idle_timeout = "5m"

[[listeners]]
address = "127.0.0.1:2121"
tls = "explicit"

[[listeners]]
address = "127.0.0.1:2990"
tls = "implicit"

[passive]
ports = "50000-50099"

[users]
file = "users.toml"

[tls]
certificate = "cert.pem"
private_key = "key.pem"
required = "none"
session_reuse = "require"

[admin]                # the Manager: web console and REST API, loopback only
address = "127.0.0.1:8021"
users_file = "admins.toml"

[log]
level = "info"
)toml";
}

}  // namespace ftpsd::config
