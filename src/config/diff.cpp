#include "config/diff.hpp"

#include <fmt/format.h>

#include <dtl/dtl.hpp>
#include <sstream>
#include <vector>

namespace ftpsd::config {
namespace {

// One element per line, without its newline; a last line without one carries the marker that `diff -u`
// prints after it, so that adding or removing that newline is a change too.
std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      out.emplace_back(std::string(text.substr(start)) + "\n\\ No newline at end of file");
      break;
    }
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, std::string_view from,
                         std::string_view to) {
  if (before == after) return {};
  dtl::Diff<std::string> diff(lines_of(before), lines_of(after));
  diff.onHuge();
  diff.compose();
  diff.composeUnifiedHunks();
  std::ostringstream out;
  out << fmt::format("--- {}\n+++ {}\n", from, to);
  diff.printUnifiedFormat(out);
  return out.str();
}

}  // namespace ftpsd::config
