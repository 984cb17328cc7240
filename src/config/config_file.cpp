#include "config/config_file.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "sys/syscalls.hpp"

namespace ftpsd::config {
namespace {

std::filesystem::path revisions_folder(const std::filesystem::path& path) {
  return path.parent_path() / (path.filename().string() + ".revisions");
}

Result<std::string, std::string> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unexpected{fmt::format("{}: cannot read it", path.string())};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<ConfigFile, std::string> ConfigFile::open(std::filesystem::path path) {
  auto text = read_all(path);
  if (!text) return Unexpected{text.error()};
  return ConfigFile(std::move(path), std::move(*text));
}

Result<unsigned, std::string> ConfigFile::replace(const std::string& next) {
  auto now = read_all(path_);
  if (!now) return Unexpected{now.error()};
  if (*now != text_)
    return Unexpected{
        fmt::format("{} changed since it was read (edited by hand meanwhile?); nothing was "
                    "written: read it again and repeat the change",
                    path_.string())};
  const auto folder = revisions_folder(path_);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) return Unexpected{fmt::format("{}: {}", folder.string(), ec.message())};
  const auto kept = revisions(path_);
  const unsigned number = kept.empty() ? 1 : kept.back().number + 1;
  const auto revision = folder / fmt::format("{}.toml", number);
  if (auto err = sys::write_file_durably(revision.string(), text_, S_IRUSR | S_IWUSR))
    return Unexpected{fmt::format("{}: {}", revision.string(), err.message())};
  struct stat st {};
  const mode_t mode = ::stat(path_.c_str(), &st) == 0 ? (st.st_mode & 07777) : (S_IRUSR | S_IWUSR);
  if (auto err = sys::write_file_durably(path_.string(), next, mode))
    return Unexpected{fmt::format("{}: {}", path_.string(), err.message())};
  text_ = next;
  return number;
}

std::vector<Revision> ConfigFile::revisions(const std::filesystem::path& path) {
  std::vector<Revision> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(revisions_folder(path), ec)) {
    const auto name = entry.path().filename().string();
    unsigned number = 0;
    const auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (err != std::errc{} || std::string_view(p) != ".toml" || number == 0) continue;
    std::error_code e;
    out.push_back(Revision{.number = number,
                           .path = entry.path(),
                           .saved = entry.last_write_time(e),
                           .size = entry.file_size(e)});
  }
  std::sort(out.begin(), out.end(), [](const Revision& a, const Revision& b) { return a.number < b.number; });
  return out;
}

Result<std::string, std::string> ConfigFile::revision_text(const std::filesystem::path& path,
                                                           unsigned number) {
  const auto file = revisions_folder(path) / fmt::format("{}.toml", number);
  if (!std::filesystem::exists(file))
    return Unexpected{
        fmt::format("{} has no revision {} (see `ftpsd config revisions`)", path.string(), number)};
  return read_all(file);
}

}  // namespace ftpsd::config
