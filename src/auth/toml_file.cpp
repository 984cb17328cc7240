#include "auth/toml_file.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "sys/syscalls.hpp"

namespace ftpsd::auth {

std::string read_all(const std::filesystem::path& file, bool& exists) {
  std::ifstream in(file, std::ios::binary);
  exists = static_cast<bool>(in);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  return ss.str();
}

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

Result<bool, std::string> write_atomically(const std::filesystem::path& file, const std::string& text) {
  if (auto ec = sys::write_file_durably(file.string(), text, S_IRUSR | S_IWUSR))
    return Unexpected{fmt::format("{}: {}", file.string(), ec.message())};
  return true;
}

}  // namespace ftpsd::auth
