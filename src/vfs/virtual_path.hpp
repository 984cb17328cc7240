#pragma once
// A path as the client sees it inside its root. Pure.
// Invariant: absolute, '/'-separated, no empty, "." or ".." segments, no NUL, at most limits::kMaxPath bytes.
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ftpsd::vfs {

enum class PathError : std::uint8_t {
  kTooLong,
  kInvalid,
  kReserved,  // names an upload temporary
};

// Uploads in progress under storage.atomic_uploads are written to "<folder>/.ftpsd-upload.<random>".
// Such names are hidden from listings and refused in client paths (resolve()).
inline constexpr std::string_view kUploadTempPrefix = ".ftpsd-upload.";
[[nodiscard]] inline bool is_upload_temp(std::string_view name) noexcept {
  return name.starts_with(kUploadTempPrefix);
}

class VirtualPath {
 public:
  VirtualPath() : value_("/") {}

  // Resolves a client argument against the current directory. ".." never climbs above "/" (as in a
  // chroot); the kernel confines the result again when it is opened (openat2 RESOLVE_BENEATH).
  // A segment naming an upload temporary is kReserved.
  static Result<VirtualPath, PathError> resolve(const VirtualPath& cwd, std::string_view argument);

  [[nodiscard]] std::string_view str() const noexcept { return value_; }
  // Relative to the root: "." for "/", else without the leading '/'.
  [[nodiscard]] std::string relative() const;
  [[nodiscard]] bool is_root() const noexcept { return value_.size() == 1; }
  [[nodiscard]] VirtualPath parent() const;
  [[nodiscard]] std::string_view name() const noexcept;          // last segment; "" for the root
  [[nodiscard]] VirtualPath child(std::string_view name) const;  // name: one valid segment

  friend bool operator==(const VirtualPath&, const VirtualPath&) = default;

 private:
  explicit VirtualPath(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace ftpsd::vfs
