#include "vfs/virtual_path.hpp"

#include <vector>

#include "util/limits.hpp"

namespace ftpsd::vfs {

Result<VirtualPath, PathError> VirtualPath::resolve(const VirtualPath& cwd, std::string_view argument) {
  if (argument.size() > limits::kMaxPath) return Unexpected{PathError::kTooLong};
  if (argument.find('\0') != std::string_view::npos) return Unexpected{PathError::kInvalid};
  std::vector<std::string_view> parts;
  auto push_all = [&parts](std::string_view p) {
    while (!p.empty()) {
      const auto slash = p.find('/');
      const auto seg = p.substr(0, slash);
      if (seg == "..") {
        if (!parts.empty()) parts.pop_back();
      } else if (!seg.empty() && seg != ".") {
        parts.push_back(seg);
      }
      if (slash == std::string_view::npos) break;
      p.remove_prefix(slash + 1);
    }
  };
  if (argument.empty() || argument.front() != '/') push_all(cwd.value_);
  push_all(argument);
  std::string out;
  for (auto seg : parts) {
    // SECURITY: clients never name an upload in progress of this or another session.
    if (is_upload_temp(seg)) return Unexpected{PathError::kReserved};
    out += '/';
    out += seg;
  }
  if (out.empty()) out = "/";
  if (out.size() > limits::kMaxPath) return Unexpected{PathError::kTooLong};
  return VirtualPath(std::move(out));
}

std::string VirtualPath::relative() const {
  return is_root() ? std::string(".") : value_.substr(1);
}

VirtualPath VirtualPath::parent() const {
  const auto slash = value_.rfind('/');
  return slash == 0 ? VirtualPath() : VirtualPath(value_.substr(0, slash));
}

std::string_view VirtualPath::name() const noexcept {
  return std::string_view(value_).substr(value_.rfind('/') + 1);
}

VirtualPath VirtualPath::child(std::string_view name) const {
  return VirtualPath(is_root() ? "/" + std::string(name) : value_ + "/" + std::string(name));
}

}  // namespace ftpsd::vfs
