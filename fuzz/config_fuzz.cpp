// The configuration loader on arbitrary TOML text: a Config or one error naming the file and line,
// never a crash or an escaping exception.
#include <cstdint>
#include <string>

#include "config/loader.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ftpsd::fuzz::as_text(data, size);
  const auto cfg = ftpsd::config::load_string(text, "fuzz.toml", "/nonexistent");
  if (!cfg) {
    // Every message is "fuzz.toml:LINE: ..." or "fuzz.toml: ..." for the operator to find.
    FUZZ_CHECK(cfg.error().message.starts_with("fuzz.toml:"));
    return 0;
  }
  FUZZ_CHECK(cfg->server.max_sessions >= 1);
  // Loading is a pure function of the text.
  const auto again = ftpsd::config::load_string(text, "fuzz.toml", "/nonexistent");
  FUZZ_CHECK(again.has_value());
  return 0;
}
