#pragma once
// Changes a TOML configuration file the way a careful person would: only the lines of the keys that
// change are touched; comments, order and layout stay. Used by `ftpsd config set` (and the Manager):
// the result is then checked as a whole by the loader before anything is written.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ftpsd::config {

// One key to set or remove. `path` names it as the loader's messages do: "passive.address",
// "domains[1].passive.ports" (tables by name, array-of-tables entries by index). `value`: the new
// value as TOML text (`"203.0.113.7"`, `30`, `["10.0.0.0/8"]`); nullopt: remove the key's line.
struct KeyEdit {
  std::string path;
  std::optional<std::string> value;
};

// The text with `edits` applied in order. A key that exists keeps its place (its value is replaced);
// a new key goes after the last key of its table; a new table gets its header after the last line of
// its nearest existing ancestor that is an array-of-tables entry (else at the end of the file). Errors:
// the text is not TOML, a path is malformed or goes through something that is not a table, a value is
// not one TOML value, an inline table would have to change.
[[nodiscard]] Result<std::string, std::string> edit_toml(std::string_view text,
                                                         std::span<const KeyEdit> edits);

// A new entry at the end of the top-level array of tables `array` ("users"): a blank line, "[[users]]",
// then one `key = value` line for each of `keys` (their paths are plain key names; values as for
// KeyEdit, nullopt ones are left out). Errors: the text is not TOML, `array` is not an array of tables
// written with [[headers]], a key or value is malformed.
[[nodiscard]] Result<std::string, std::string> append_table(std::string_view text, std::string_view array,
                                                            std::span<const KeyEdit> keys);

// The text without entry `index` of the top-level array of tables `array`: its [[header]] line and the
// lines of its keys go, with the blank line after it; every other line stays.
[[nodiscard]] Result<std::string, std::string> remove_table(std::string_view text, std::string_view array,
                                                            std::size_t index);

// `text` as a TOML basic string, quotes included ("a\"b").
[[nodiscard]] std::string toml_quote(std::string_view text);

// A value as a person types it: itself when it is one TOML value (4, false, ["a"], "quoted"), else a
// string (203.0.113.7, 50000-50099, ftp.example.com).
[[nodiscard]] std::string typed_value(const std::string& typed);

}  // namespace ftpsd::config
