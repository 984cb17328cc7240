// The control line as the session sees it: Telnet commands stripped, then parsed into a Command.
#include <algorithm>
#include <cctype>
#include <cstdint>

#include "fuzz_check.hpp"
#include "protocol/command.hpp"
#include "protocol/telnet.hpp"
#include "util/text.hpp"

using namespace ftpsd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw = fuzz::as_text(data, size);

  const std::string line = protocol::strip_telnet(raw);
  FUZZ_CHECK(line.size() <= raw.size());
  if (raw.find('\xff') == std::string_view::npos) FUZZ_CHECK(line == raw);

  const std::string verb = protocol::verb_of(line);
  FUZZ_CHECK(verb.size() <= 16);
  FUZZ_CHECK(std::all_of(verb.begin(), verb.end(),
                         [](char c) { return std::isprint(static_cast<unsigned char>(c)); }));

  const auto cmd = protocol::parse_command(line);
  if (!cmd) {
    FUZZ_CHECK(cmd.error() != protocol::ParseError::kEmpty || line.empty());
    return 0;
  }
  // The verb is the first word, case-insensitively; the argument is the rest after one space, verbatim.
  const auto space = line.find(' ');
  FUZZ_CHECK(ascii_upper(line.substr(0, space)) == protocol::verb_name(cmd->verb));
  FUZZ_CHECK(cmd->argument == (space == std::string::npos ? std::string() : line.substr(space + 1)));
  // SECURITY: no NUL or control character ever reaches a handler.
  FUZZ_CHECK(std::none_of(cmd->argument.begin(), cmd->argument.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  }));
  return 0;
}
