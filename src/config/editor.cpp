#include "config/editor.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

namespace ftpsd::config {
namespace {

struct Segment {
  std::string name;
  std::optional<std::size_t> index;  // "domains[1]"
};

bool is_bare_key(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
  });
}

Result<std::vector<Segment>, std::string> parse_path(std::string_view path) {
  std::vector<Segment> out;
  std::size_t start = 0;
  for (;;) {
    const auto dot = path.find('.', start);
    std::string_view part =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    Segment seg;
    if (const auto open = part.find('['); open != std::string_view::npos) {
      std::size_t index = 0;
      const auto digits = part.substr(open + 1, part.size() - open - 2);
      const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (part.back() != ']' || ec != std::errc{} || p != digits.data() + digits.size())
        return Unexpected{
            fmt::format("'{}': expected a key path such as \"domains[1].passive.ports\"", path)};
      seg.index = index;
      part = part.substr(0, open);
    }
    if (!is_bare_key(part))
      return Unexpected{fmt::format("'{}': expected a key path such as \"domains[1].passive.ports\"", path)};
    seg.name = std::string(part);
    out.push_back(std::move(seg));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (out.back().index)
    return Unexpected{fmt::format("'{}': the last part names a key, not an array-of-tables entry", path)};
  return out;
}

// Byte offsets of toml++ positions (lines from 1, columns from 1 in code points, ends exclusive).
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') starts_.push_back(i + 1);
  }
  [[nodiscard]] std::size_t start(std::uint32_t line) const {
    return line - 1 < starts_.size() ? starts_[line - 1] : text_.size();
  }
  // Just after the newline that ends `line` (the end of the text for the last line).
  [[nodiscard]] std::size_t after(std::uint32_t line) const { return start(line + 1); }
  [[nodiscard]] std::size_t offset(const toml::source_position& p) const {
    std::size_t at = start(p.line);
    for (std::uint32_t col = 1; col < p.column && at < text_.size(); ++col) {
      ++at;  // past the code point's first byte, then its continuation bytes
      while (at < text_.size() && (static_cast<unsigned char>(text_[at]) & 0xC0U) == 0x80U) ++at;
    }
    return at;
  }
  [[nodiscard]] bool starts_header(std::uint32_t line) const {
    const auto s = text_.substr(start(line), after(line) - start(line));
    const auto first = s.find_first_not_of(" \t");
    return first != std::string_view::npos && s[first] == '[';
  }

 private:
  std::string_view text_;
  std::vector<std::size_t> starts_;
};

// The last line a node's text reaches, its children's included.
std::uint32_t last_line(const toml::node& n) {
  std::uint32_t last = n.source().end.line;
  if (const auto* t = n.as_table()) {
    for (const auto& [k, v] : *t) last = std::max(last, last_line(v));
  } else if (const auto* a = n.as_array()) {
    for (const auto& v : *a) last = std::max(last, last_line(v));
  }
  return last;
}

// The last line of a table's own keys (its dotted sub-tables included, its [header] sub-tables not).
std::uint32_t last_own_line(const toml::table& t, const Lines& lines, std::uint32_t header_line) {
  std::uint32_t last = header_line;
  for (const auto& [k, v] : t) {
    const auto* sub = v.as_table();
    const bool own_header =
        sub != nullptr && !sub->is_inline() && lines.starts_header(sub->source().begin.line);
    const auto* array = v.as_array();
    const bool array_of_tables = array != nullptr && array->is_array_of_tables() && !array->empty() &&
                                 lines.starts_header(array->front().source().begin.line);
    if (!own_header && !array_of_tables) last = std::max(last, last_line(v));
  }
  return last;
}

std::string insert_at(std::string_view text, std::size_t at, std::string_view what) {
  std::string out(text.substr(0, at));
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += what;
  out += text.substr(at);
  return out;
}

// Where the walk down the path stopped.
struct Walk {
  const toml::table* table = nullptr;     // the deepest table found
  std::size_t found = 0;                  // how many table segments were found
  const toml::table* element = nullptr;   // the deepest array-of-tables entry on the way
  std::vector<std::string> since_header;  // dotted names from the nearest [header] table down
  std::vector<std::string> header_path;   // every table name (no indices), for a new [header]
};

Result<Walk, std::string> walk(const toml::table& root, const std::vector<Segment>& tables,
                               const Lines& lines, std::string_view path) {
  Walk w{.table = &root};
  for (const auto& seg : tables) {
    const toml::node* n = w.table->get(seg.name);
    if (n == nullptr) break;
    const toml::table* next = nullptr;
    if (seg.index) {
      const auto* a = n->as_array();
      if (a == nullptr || !a->is_array_of_tables())
        return Unexpected{fmt::format("'{}': {} is not an array of tables", path, seg.name)};
      if (*seg.index >= a->size())
        return Unexpected{
            fmt::format("'{}': {} has no entry {} (it has {})", path, seg.name, *seg.index, a->size())};
      next = (*a)[*seg.index].as_table();
      w.element = next;
    } else {
      next = n->as_table();
      if (next == nullptr) return Unexpected{fmt::format("'{}': {} is not a table", path, seg.name)};
    }
    if (next->is_inline())
      return Unexpected{
          fmt::format("'{}': {} is an inline table {{ ... }}; change it by hand", path, seg.name)};
    w.header_path.push_back(seg.name);
    if (seg.index || lines.starts_header(next->source().begin.line)) {
      w.since_header.clear();
    } else {
      w.since_header.push_back(seg.name);
    }
    w.table = next;
    ++w.found;
  }
  return w;
}

Result<std::string, std::string> apply_edit(std::string_view text, const KeyEdit& e) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& err) {
    return Unexpected{fmt::format("line {}: {}", err.source().begin.line, err.description())};
  }
  if (e.value) {
    bool one_value = false;
    try {
      one_value = toml::parse("v = " + *e.value).size() == 1;
    } catch (const toml::parse_error&) {
      one_value = false;
    }
    if (!one_value) return Unexpected{fmt::format("'{}': {} is not one TOML value", e.path, *e.value)};
  }
  auto segs = parse_path(e.path);
  if (!segs) return Unexpected{segs.error()};
  const std::string key = segs->back().name;
  segs->pop_back();
  const Lines lines(text);
  auto w = walk(root, *segs, lines, e.path);
  if (!w) return Unexpected{w.error()};
  const std::string line = e.value ? fmt::format("{} = {}\n", key, *e.value) : std::string();

  if (w->found < segs->size()) {             // a table to create, with a [header] of its own
    if (!e.value) return std::string(text);  // nothing to remove
    for (std::size_t i = w->found; i < segs->size(); ++i) {
      if ((*segs)[i].index)
        return Unexpected{fmt::format("'{}': there is no {} to change; add the [[{}]] entry first", e.path,
                                      (*segs)[i].name, (*segs)[i].name)};
      w->header_path.push_back((*segs)[i].name);
    }
    std::string header;
    for (const auto& name : w->header_path) header += (header.empty() ? "" : ".") + name;
    const std::size_t at = w->element != nullptr ? lines.after(last_line(*w->element)) : text.size();
    return insert_at(text, at, fmt::format("\n[{}]\n{}", header, line));
  }

  if (const auto it = w->table->find(key); it != w->table->end()) {
    const auto& value = it->second;
    if (!e.value)
      return std::string(text.substr(0, lines.start(it->first.source().begin.line))) +
             std::string(text.substr(lines.after(value.source().end.line)));
    if (value.is_table() || (value.is_array() && value.as_array()->is_array_of_tables()))
      return Unexpected{fmt::format("'{}' is a table, not a key", e.path)};
    std::string out(text);
    const auto from = lines.offset(value.source().begin);
    out.replace(from, lines.offset(value.source().end) - from, *e.value);
    return out;
  }
  if (!e.value) return std::string(text);
  if (w->table == &root) {
    // Keys of the root come before the first [header]: after the last of them, or at the very top.
    std::uint32_t after = 0;
    for (const auto& [k, v] : root)
      if (!v.is_table() && !(v.is_array() && v.as_array()->is_array_of_tables()))
        after = std::max(after, last_line(v));
    return insert_at(text, after == 0 ? 0 : lines.after(after), line);
  }
  std::string prefix;
  for (const auto& name : w->since_header) prefix += name + ".";
  const auto header_line = w->since_header.empty() ? w->table->source().begin.line : 0U;
  const auto last =
      w->since_header.empty() ? last_own_line(*w->table, lines, header_line) : last_line(*w->table);
  return insert_at(text, lines.after(last), prefix + line);
}

}  // namespace

Result<std::string, std::string> edit_toml(std::string_view text, std::span<const KeyEdit> edits) {
  std::string out(text);
  for (const auto& e : edits) {
    auto next = apply_edit(out, e);
    if (!next) return next;
    out = std::move(*next);
  }
  try {
    (void)toml::parse(out);
  } catch (const toml::parse_error& err) {
    return Unexpected{fmt::format("the edit would leave the file broken (line {}: {}); nothing was changed",
                                  err.source().begin.line, err.description())};
  }
  return out;
}

namespace {

// The top-level array of tables `array` of `root`, written with [[headers]]; nullptr when there is none.
Result<const toml::array*, std::string> array_of_tables(const toml::table& root, std::string_view array,
                                                        const Lines& lines) {
  const toml::node* n = root.get(array);
  if (n == nullptr) return nullptr;
  const auto* a = n->as_array();
  if (a == nullptr || (!a->empty() && !a->is_array_of_tables()))
    return Unexpected{fmt::format("'{}' is not an array of tables", array)};
  for (const auto& entry : *a) {
    if (entry.as_table()->is_inline() || !lines.starts_header(entry.source().begin.line))
      return Unexpected{fmt::format("'{}' is written inline; change it by hand", array)};
  }
  return a;
}

}  // namespace

Result<std::string, std::string> append_table(std::string_view text, std::string_view array,
                                              std::span<const KeyEdit> keys) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& err) {
    return Unexpected{fmt::format("line {}: {}", err.source().begin.line, err.description())};
  }
  if (!is_bare_key(array)) return Unexpected{fmt::format("'{}': not a plain key name", array)};
  const Lines lines(text);
  if (auto found = array_of_tables(root, array, lines); !found) return Unexpected{found.error()};
  std::string entry = fmt::format("[[{}]]\n", array);
  for (const auto& k : keys) {
    if (!is_bare_key(k.path)) return Unexpected{fmt::format("'{}': not a plain key name", k.path)};
    if (k.value) entry += fmt::format("{} = {}\n", k.path, *k.value);
  }
  std::string out(text);
  if (!out.empty() && out.back() != '\n') out += '\n';
  if (!out.empty()) out += '\n';
  out += entry;
  try {
    const auto parsed = toml::parse(out);
    const auto* a = parsed.get(array) != nullptr ? parsed.get(array)->as_array() : nullptr;
    if (a == nullptr || a->back().as_table()->size() != static_cast<std::size_t>(std::count_if(
                                                            keys.begin(), keys.end(), [](const KeyEdit& k) {
                                                              return k.value.has_value();
                                                            })))
      return Unexpected{fmt::format("the new [[{}]] entry did not come out as written", array)};
  } catch (const toml::parse_error& err) {
    return Unexpected{fmt::format("the new [[{}]] entry is not TOML (line {}: {})", array,
                                  err.source().begin.line, err.description())};
  }
  return out;
}

Result<std::string, std::string> remove_table(std::string_view text, std::string_view array,
                                              std::size_t index) {
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& err) {
    return Unexpected{fmt::format("line {}: {}", err.source().begin.line, err.description())};
  }
  const Lines lines(text);
  auto found = array_of_tables(root, array, lines);
  if (!found) return Unexpected{found.error()};
  if (*found == nullptr || index >= (*found)->size())
    return Unexpected{fmt::format("'{}' has no entry {}", array, index)};
  const auto& entry = *(**found)[index].as_table();
  const auto first = entry.source().begin.line;
  const auto last = std::max(first, last_line(entry));
  std::size_t to = lines.after(last);
  // The blank line after it goes too (the one before, for the last entry of the file).
  std::size_t from = lines.start(first);
  if (to < text.size() && text[to] == '\n') {
    ++to;
  } else if (to >= text.size() && from >= 2 && text[from - 1] == '\n' && text[from - 2] == '\n') {
    --from;
  }
  std::string out(text.substr(0, from));
  out += text.substr(to);
  return out;
}

std::string typed_value(const std::string& typed) {
  bool one_value = false;
  try {
    one_value = toml::parse("v = " + typed).size() == 1;
  } catch (const toml::parse_error&) {
    one_value = false;  // not TOML: a string
  }
  return one_value ? typed : toml_quote(typed);
}

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\u{:04X}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace ftpsd::config
