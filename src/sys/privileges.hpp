#pragma once
// Process credentials and capabilities: looking up the service account, dropping root, keeping one
// capability. The kernel keeps credentials, capabilities and no_new_privs per thread: everything here
// that changes them must run while the process has a single thread (threads started later inherit).
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <system_error>

#include "util/result.hpp"

namespace ftpsd::sys {

struct Identity {
  std::string user;
  std::string group;
  uid_t uid = 0;
  gid_t gid = 0;
};

// server.user / server.group: `group` empty means the user's primary group. Errors are texts for the
// operator ("no such user 'x'").
[[nodiscard]] Result<Identity, std::string> lookup_identity(const std::string& user,
                                                            const std::string& group);

// The process's thread count (from /proc/self/status); 0 when it cannot be read.
[[nodiscard]] std::size_t thread_count();

// From root to `id`: supplementary groups replaced by the one group, then real/effective/saved gid
// and uid. With `keep_bind_service`, CAP_NET_BIND_SERVICE stays permitted and effective (and nothing
// else); otherwise the change of uid clears every capability.
[[nodiscard]] std::error_code drop_root(const Identity& id, bool keep_bind_service);

// For a process that is not root but was given capabilities (setcap, systemd AmbientCapabilities):
// clears all of them except CAP_NET_BIND_SERVICE when `keep_bind_service`. Ambient sets are cleared.
[[nodiscard]] std::error_code limit_capabilities(bool keep_bind_service);

// Whether `cap` (a CAP_* number) is in the effective set of the calling thread.
[[nodiscard]] bool has_effective_capability(int cap);

// prctl(PR_SET_NO_NEW_PRIVS): no exec can ever give this process more privileges.
[[nodiscard]] std::error_code set_no_new_privs();

}  // namespace ftpsd::sys
