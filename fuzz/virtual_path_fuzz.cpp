// Path normalisation: whatever a client names, the result stays a clean absolute path in its root.
// Input: "<cwd>\n<argument>" (no newline: the argument alone, from "/").
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "util/limits.hpp"
#include "vfs/virtual_path.hpp"

using ftpsd::vfs::VirtualPath;

namespace {

void check_invariant(const VirtualPath& p) {
  const std::string_view s = p.str();
  FUZZ_CHECK(!s.empty() && s.front() == '/');
  FUZZ_CHECK(s.size() <= ftpsd::limits::kMaxPath);
  FUZZ_CHECK(s.find('\0') == std::string_view::npos);
  FUZZ_CHECK(s.size() == 1 || s.back() != '/');
  // SECURITY: no empty, "." or ".." segment survives, so nothing climbs above the root.
  std::string_view rest = s.substr(1);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto seg = rest.substr(0, slash);
    FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..");
    // SECURITY: no client path names an upload temporary of another session.
    FUZZ_CHECK(!ftpsd::vfs::is_upload_temp(seg));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = ftpsd::fuzz::as_text(data, size);
  const auto nl = in.find('\n');
  VirtualPath cwd;
  std::string_view arg = in;
  if (nl != std::string_view::npos) {
    auto c = VirtualPath::resolve(VirtualPath(), in.substr(0, nl));
    if (!c) return 0;
    cwd = *c;
    arg = in.substr(nl + 1);
  }
  check_invariant(cwd);
  const auto p = VirtualPath::resolve(cwd, arg);
  if (!p) {
    if (p.error() == ftpsd::vfs::PathError::kReserved) {
      FUZZ_CHECK(arg.find(ftpsd::vfs::kUploadTempPrefix) != std::string_view::npos);
    } else {
      FUZZ_CHECK(arg.find('\0') != std::string_view::npos || arg.size() > ftpsd::limits::kMaxPath ||
                 cwd.str().size() + 1 + arg.size() > ftpsd::limits::kMaxPath);
    }
    return 0;
  }
  check_invariant(*p);
  // Normal form: resolving the result again, from any directory, changes nothing.
  const auto again = VirtualPath::resolve(cwd, p->str());
  FUZZ_CHECK(again && *again == *p);
  const auto from_root = VirtualPath::resolve(VirtualPath(), p->str());
  FUZZ_CHECK(from_root && *from_root == *p);
  // relative() is what the kernel sees under the root handle: never absolute, never empty.
  const std::string rel = p->relative();
  FUZZ_CHECK(!rel.empty() && rel.front() != '/');
  if (!p->is_root()) {
    FUZZ_CHECK(p->parent().child(p->name()) == *p);
    FUZZ_CHECK(p->name().find('/') == std::string_view::npos);
  } else {
    FUZZ_CHECK(rel == "." && p->parent() == *p && p->name().empty());
  }
  return 0;
}
