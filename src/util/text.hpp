#pragma once
// ASCII text helpers for protocol keywords (verbs, TYPE/MODE/PROT arguments). Locale-independent.
#include <string>
#include <string_view>

namespace ftpsd {

[[nodiscard]] constexpr char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

[[nodiscard]] inline std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_upper(c);
  return out;
}

}  // namespace ftpsd
