#include "app/privileges.hpp"

#include <fmt/format.h>
#include <linux/capability.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "tools/config_check.hpp"

namespace ftpsd::app {

bool needs_bind_service(const config::Config& config) {
  return config.active.enabled && config.active.source_port != 0 && config.active.source_port < 1024;
}

std::optional<std::string> drop_privileges(const config::Config& config) {
  auto identity = tools::service_identity(config);
  if (!identity) return identity.error();
  const bool keep_bind = needs_bind_service(config);
  const uid_t euid = ::geteuid();
  // SECURITY: the kernel changes credentials per thread; glibc spreads setuid to every thread, but
  // not capabilities or no_new_privs. One thread here means none is left behind.
  if (const auto threads = sys::thread_count(); threads != 1)
    return fmt::format("cannot drop privileges safely: the process has {} threads", threads);
  if (*identity) {
    const auto& id = **identity;
    if (euid == 0) {
      if (id.uid == 0) return std::string("server.user must not be root (uid 0)");
      if (auto ec = sys::drop_root(id, keep_bind))
        return fmt::format("cannot drop privileges to user '{}': {}", id.user, ec.message());
      spdlog::info("dropped privileges: user {} (uid {}), group {} (gid {}), no supplementary groups{}",
                   id.user, id.uid, id.group, id.gid,
                   keep_bind ? fmt::format(", keeping CAP_NET_BIND_SERVICE for active.source_port {}",
                                           config.active.source_port)
                             : "");
    } else if (euid != id.uid) {
      return fmt::format("server.user = '{}' needs ftpsd to start as root (it runs as uid {})", id.user,
                         euid);
    }
  } else if (euid == 0) {
    spdlog::warn(
        "RUNNING AS ROOT: every session and every file operation has root's rights. Set server.user "
        "(and server.group) to drop privileges after binding the ports (README: Security)");
  }
  if (euid != 0 || *identity) {
    if (::geteuid() != 0) {
      if (auto ec = sys::limit_capabilities(keep_bind))
        return fmt::format("cannot clear capabilities: {}", ec.message());
      if (keep_bind && !sys::has_effective_capability(CAP_NET_BIND_SERVICE))
        spdlog::warn(
            "active.source_port = {} needs CAP_NET_BIND_SERVICE, which ftpsd does not have: "
            "active-mode transfers will fail",
            config.active.source_port);
    }
  }
  if (auto ec = sys::set_no_new_privs()) return fmt::format("PR_SET_NO_NEW_PRIVS failed: {}", ec.message());
  const bool bind = sys::has_effective_capability(CAP_NET_BIND_SERVICE);
  spdlog::info("privileges: uid {}, gid {}, {}, no new privileges", ::geteuid(), ::getegid(),
               ::geteuid() == 0 ? "root's capabilities"
               : bind           ? "CAP_NET_BIND_SERVICE only"
                                : "no capabilities");
  return std::nullopt;
}

}  // namespace ftpsd::app
