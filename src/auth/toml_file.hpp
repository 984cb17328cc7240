#pragma once
// What the editors of the users file and the admins file share: reading a whole file, quoting a TOML
// string, and writing a file durably (sys::write_file_durably: a crash leaves the old or the new file).
#include <filesystem>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ftpsd::auth {

// The file's bytes; `exists` false (and "") when it cannot be opened.
[[nodiscard]] std::string read_all(const std::filesystem::path& file, bool& exists);
// `s` as a TOML basic string, quotes included.
[[nodiscard]] std::string toml_string(std::string_view s);
// Replaces `file` with `text`, the owner's only (mode 0600: it holds password hashes), fsync'd with its
// folder. Error: a message naming the file.
[[nodiscard]] Result<bool, std::string> write_atomically(const std::filesystem::path& file,
                                                         const std::string& text);

}  // namespace ftpsd::auth
