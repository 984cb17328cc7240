#pragma once
// A unified diff of two texts (`diff -u` form), for what a change did to a configuration file: the audit
// log, the Manager's answers and its revision comparisons. The diff itself is dtl's (libdtl-dev).
#include <string>
#include <string_view>

namespace ftpsd::config {

// "--- from\n+++ to\n@@ -a,b +c,d @@\n lines...", three lines of context, "\ No newline at end of file"
// after a last line without one. Empty when the texts are equal.
[[nodiscard]] std::string unified_diff(std::string_view before, std::string_view after, std::string_view from,
                                       std::string_view to);

}  // namespace ftpsd::config
