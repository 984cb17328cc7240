#pragma once
// The configuration tests' way in: a text loaded as the file "test.toml" in the folder "/base".
#include <string>
#include <string_view>

#include "config/loader.hpp"

namespace ftpsd::config::test_support {

inline Result<Config, ConfigError> load(std::string_view text) {
  return load_string(text, "test.toml", "/base");
}

// The loader's error message, or "loaded".
inline std::string error_of(std::string_view text) {
  auto c = load(text);
  return c ? std::string("loaded") : c.error().message;
}

}  // namespace ftpsd::config::test_support
