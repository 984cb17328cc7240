#include "sys/privileges.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace ftpsd::sys {
namespace {

std::error_code errno_code() {
  return {errno, std::system_category()};
}

// One capability in the permitted and effective sets, or none at all.
std::error_code set_capabilities(bool bind_service) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (bind_service) {
    data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].permitted = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
    data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].effective = CAP_TO_MASK(CAP_NET_BIND_SERVICE);
  }
  if (::syscall(SYS_capset, &header, data) != 0) return errno_code();
  return {};
}

std::vector<char> nss_buffer() {
  const long n = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  return std::vector<char>(n > 0 ? static_cast<std::size_t>(n) * 4 : 65536);
}

}  // namespace

Result<Identity, std::string> lookup_identity(const std::string& user, const std::string& group) {
  Identity id{.user = user, .group = group};
  auto buf = nss_buffer();
  passwd pw{};
  passwd* found = nullptr;
  if (const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found); found == nullptr) {
    return Unexpected{rc == 0 ? fmt::format("no such user '{}'", user)
                              : fmt::format("cannot look up user '{}': {}", user, std::strerror(rc))};
  }
  id.uid = pw.pw_uid;
  id.gid = pw.pw_gid;
  struct group gr {};
  struct group* g = nullptr;
  if (group.empty()) {
    if (::getgrgid_r(id.gid, &gr, buf.data(), buf.size(), &g) == 0 && g != nullptr) id.group = g->gr_name;
    if (id.group.empty()) id.group = std::to_string(id.gid);
    return id;
  }
  if (const int rc = ::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &g); g == nullptr) {
    return Unexpected{rc == 0 ? fmt::format("no such group '{}'", group)
                              : fmt::format("cannot look up group '{}': {}", group, std::strerror(rc))};
  }
  id.gid = g->gr_gid;
  return id;
}

std::size_t thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Threads:")) return static_cast<std::size_t>(std::stoul(line.substr(8)));
  }
  return 0;
}

std::error_code drop_root(const Identity& id, bool keep_bind_service) {
  if (keep_bind_service && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return errno_code();
  const gid_t groups[] = {id.gid};
  if (::setgroups(1, groups) != 0) return errno_code();
  if (::setresgid(id.gid, id.gid, id.gid) != 0) return errno_code();
  if (::setresuid(id.uid, id.uid, id.uid) != 0) return errno_code();
  if (keep_bind_service) {
    if (auto ec = set_capabilities(true)) return ec;
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return errno_code();
  }
  // SECURITY: the way back must be closed.
  if (id.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
    return std::make_error_code(std::errc::operation_not_permitted);
  return {};
}

std::error_code limit_capabilities(bool keep_bind_service) {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno_code();
  return set_capabilities(keep_bind_service && has_effective_capability(CAP_NET_BIND_SERVICE));
}

bool has_effective_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

std::error_code set_no_new_privs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_code();
  return {};
}

}  // namespace ftpsd::sys
