#pragma once
// TempDir: a folder of one's own for a test, made empty under the temporary directory ($TMPDIR or /tmp)
// and removed with everything in it when the TempDir goes away, also after a failed assertion.
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace ftpsd::test {

class TempDir {
 public:
  // "<tmp>/ftpsd-<prefix>-XXXXXX", unique (mkdtemp): tests running at once never share a folder.
  explicit TempDir(std::string_view prefix) {
    auto name =
        (std::filesystem::temp_directory_path() / ("ftpsd-" + std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
    path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace ftpsd::test
