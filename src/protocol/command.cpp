#include "protocol/command.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "util/text.hpp"

namespace ftpsd::protocol {
namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(Verb::kCount)> kVerbNames = {
#define FTPSD_VERB_NAME(name, text) text,
    FTPSD_VERBS(FTPSD_VERB_NAME)
#undef FTPSD_VERB_NAME
};

}  // namespace

std::string_view verb_name(Verb v) noexcept {
  return kVerbNames.at(static_cast<std::size_t>(v));
}

std::string verb_of(std::string_view line) {
  const auto end = std::min({line.find(' '), line.size(), std::size_t{16}});
  std::string verb(line.substr(0, end));
  verb = ascii_upper(verb);
  std::replace_if(
      verb.begin(), verb.end(), [](char c) { return !std::isprint(static_cast<unsigned char>(c)); }, '?');
  return verb;
}

Result<Command, ParseError> parse_command(std::string_view line) {
  if (line.empty()) return Unexpected{ParseError::kEmpty};
  const auto space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  if (word.empty() || word.size() > 4) return Unexpected{ParseError::kUnknownVerb};
  std::array<char, 4> up{};
  for (std::size_t i = 0; i < word.size(); ++i) up[i] = ascii_upper(word[i]);
  const std::string_view key(up.data(), word.size());
  const auto it = std::find(kVerbNames.begin(), kVerbNames.end(), key);
  if (it == kVerbNames.end()) return Unexpected{ParseError::kUnknownVerb};
  const auto verb = static_cast<Verb>(it - kVerbNames.begin());

  std::string_view argument = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  // SECURITY: a NUL or control character in an argument would truncate or smuggle a path.
  const bool bad = std::any_of(argument.begin(), argument.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
  if (bad) return Unexpected{ParseError::kControlCharacter};
  return Command{verb, std::string(argument)};
}

}  // namespace ftpsd::protocol
