#pragma once
// A configuration file that a program changes (`ftpsd config set`, later the Manager): each change
// replaces the text it was made from and nothing newer (a file edited by hand meanwhile is not
// overwritten), keeps the previous text as a numbered revision, and is written durably.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace ftpsd::config {

struct Revision {
  unsigned number = 0;                    // 1 is the oldest
  std::filesystem::path path;             // <folder>/<name>.revisions/<number>.toml
  std::filesystem::file_time_type saved;  // when it was replaced
  std::uintmax_t size = 0;
};

class ConfigFile {
 public:
  // Reads the file. Errors name it.
  [[nodiscard]] static Result<ConfigFile, std::string> open(std::filesystem::path path);

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  // Writes `next` in place of the text read by open(): refused when the file changed since (someone
  // edited it meanwhile); the text it replaces is kept as the next revision first. Returns that
  // revision's number.
  [[nodiscard]] Result<unsigned, std::string> replace(const std::string& next);

  // The revisions kept for `path`, oldest first.
  [[nodiscard]] static std::vector<Revision> revisions(const std::filesystem::path& path);
  [[nodiscard]] static Result<std::string, std::string> revision_text(const std::filesystem::path& path,
                                                                      unsigned number);

 private:
  ConfigFile(std::filesystem::path path, std::string text) : path_(std::move(path)), text_(std::move(text)) {}

  std::filesystem::path path_;
  std::string text_;
};

}  // namespace ftpsd::config
