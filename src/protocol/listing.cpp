#include "protocol/listing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace ftpsd::protocol {
namespace {

constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::int64_t kSixMonths = 182LL * 24 * 3600;

std::tm utc(std::int64_t seconds) {
  std::tm tm{};
  const auto t = static_cast<std::time_t>(seconds);
  gmtime_r(&t, &tm);
  return tm;
}

char type_char(FileType t) {
  switch (t) {
    case FileType::kDirectory:
      return 'd';
    case FileType::kSymlink:
      return 'l';
    case FileType::kOther:
      return 'p';
    case FileType::kFile:
      break;
  }
  return '-';
}

// The fixed part of one line, built in place and appended to the output at once (one append per
// line instead of one per field). Every field has a bounded width: 256 bytes always suffice.
class LineBuffer {
 public:
  void put(char c) noexcept { buf_[n_++] = c; }
  void put(std::string_view s) noexcept {
    std::memcpy(buf_.data() + n_, s.data(), s.size());
    n_ += s.size();
  }
  // `value` in `base`, right-aligned in `width` columns (wider values are not cut).
  void number(std::uint64_t value, std::size_t width = 0, int base = 10) noexcept {
    std::array<char, 24> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value, base).ptr;
    const auto n = static_cast<std::size_t>(end - digits.data());
    for (; width > n; --width) put(' ');
    put(std::string_view(digits.data(), n));
  }
  void append_to(std::string& out) const { out.append(buf_.data(), n_); }

 private:
  std::array<char, 256> buf_;
  std::size_t n_ = 0;
};

}  // namespace

void ListFormatter::append_list_line(std::string& out, const FileInfo& info, std::string_view name) {
  LineBuffer line;
  line.put(type_char(info.type));
  constexpr std::string_view kRwx = "rwxrwxrwx";
  for (std::size_t i = 0; i < 9; ++i) line.put((info.mode & (0400u >> i)) ? kRwx[i] : '-');
  line.put(' ');
  line.number(info.nlink, 4);
  line.put(" ftp      ftp      ");
  line.number(info.size, 12);
  line.put(' ');
  if (list_date_len_ == 0 || info.mtime != list_mtime_) {
    const std::tm tm = utc(info.mtime);
    const bool recent = info.mtime <= now_ + 3600 && now_ - info.mtime < kSixMonths;
    const auto month = kMonths.at(static_cast<std::size_t>(tm.tm_mon));
    const auto r = recent ? fmt::format_to_n(list_date_.data(), list_date_.size(), "{} {:>2} {:02}:{:02}",
                                             month, tm.tm_mday, tm.tm_hour, tm.tm_min)
                          : fmt::format_to_n(list_date_.data(), list_date_.size(), "{} {:>2} {:>5}", month,
                                             tm.tm_mday, tm.tm_year + 1900);
    list_date_len_ = std::min(r.size, list_date_.size());
    list_mtime_ = info.mtime;
  }
  line.put(std::string_view(list_date_.data(), list_date_len_));
  line.put(' ');
  line.append_to(out);
  out += name;
}

void ListFormatter::append_facts(std::string& out, const FileInfo& info) {
  const bool dir = info.type == FileType::kDirectory;
  LineBuffer line;
  if (has(facts_, Fact::kType)) {
    line.put("type=");
    line.put(dir ? "dir" : (info.type == FileType::kFile ? "file" : "OS.unix=special"));
    line.put(';');
  }
  if (!dir && has(facts_, Fact::kSize)) {
    line.put("size=");
    line.number(info.size);
    line.put(';');
  }
  if (has(facts_, Fact::kModify)) {
    if (facts_time_len_ == 0 || info.mtime != facts_mtime_) {
      const std::tm tm = utc(info.mtime);
      const auto r =
          fmt::format_to_n(facts_time_.data(), facts_time_.size(), "{:04}{:02}{:02}{:02}{:02}{:02}",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
      facts_time_len_ = std::min(r.size, facts_time_.size());
      facts_mtime_ = info.mtime;
    }
    line.put("modify=");
    line.put(std::string_view(facts_time_.data(), facts_time_len_));
    line.put(';');
  }
  if (has(facts_, Fact::kPerm)) {
    // RFC 3659 §7.5.5: files a(ppend) d(elete) f(rename) r(etrieve) w(rite);
    // directories c(reate) d(elete) e(nter) f(rename) l(ist) m(kdir) p(urge).
    line.put("perm=");
    line.put(dir ? (writable_ ? "cdeflmp" : "el") : (writable_ ? "adfrw" : "r"));
    line.put(';');
  }
  if (has(facts_, Fact::kUnique)) {
    line.put("unique=");
    line.number(info.device, 0, 16);
    line.put('g');
    line.number(info.inode, 0, 16);
    line.put(';');
  }
  if (has(facts_, Fact::kUnixMode)) {
    line.put("UNIX.mode=0");
    line.number(info.mode & 07777u, 0, 8);
    line.put(';');
  }
  line.put(' ');
  line.append_to(out);
}

std::string format_list_line(const FileInfo& info, std::int64_t now) {
  std::string out;
  ListFormatter(now, false).append_list_line(out, info, info.name);
  return out;
}

std::string format_time_val(std::int64_t seconds) {
  const std::tm tm = utc(seconds);
  return fmt::format("{:04}{:02}{:02}{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<std::int64_t> parse_time_val(std::string_view text) {
  if (const auto dot = text.find('.'); dot != std::string_view::npos) {
    const auto frac = text.substr(dot + 1);
    if (frac.empty() || frac.size() > 9 || frac.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    text = text.substr(0, dot);
  }
  if (text.size() != 14 || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    std::from_chars(text.data() + pos, text.data() + pos + len, v);
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(8, 2);
  tm.tm_min = num(10, 2);
  tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string format_facts(const FileInfo& info, bool writable, FactSet facts) {
  std::string out;
  ListFormatter(0, writable, facts).append_facts(out, info);
  return out;
}

namespace {

struct FactName {
  Fact fact;
  std::string_view name;
};
constexpr std::array<FactName, 6> kFactNames = {{{Fact::kType, "type"},
                                                 {Fact::kSize, "size"},
                                                 {Fact::kModify, "modify"},
                                                 {Fact::kPerm, "perm"},
                                                 {Fact::kUnique, "unique"},
                                                 {Fact::kUnixMode, "UNIX.mode"}}};

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

std::string fact_names(FactSet facts, bool marked) {
  std::string out;
  for (const auto& [fact, name] : kFactNames) {
    if (!marked && !has(facts, fact)) continue;
    out += name;
    if (marked && has(facts, fact)) out += '*';
    out += ';';
  }
  return out;
}

std::optional<FactSet> parse_fact_list(std::string_view list) {
  if (list.ends_with(';')) list.remove_suffix(1);
  FactSet out = 0;
  if (list.empty()) return out;
  for (;;) {
    const auto semi = list.find(';');
    const std::string_view name = list.substr(0, semi);
    // factname = "Size" / "Modify" / ... / os-depend-fact / local-fact: printable, no space, no '='.
    if (name.empty() || name.find_first_of(" \t=") != std::string_view::npos) return std::nullopt;
    for (const auto& [fact, known] : kFactNames)
      if (iequals(name, known)) out |= static_cast<FactSet>(fact);
    if (semi == std::string_view::npos) return out;
    list.remove_prefix(semi + 1);
  }
}

ListArgument parse_list_argument(std::string_view argument) {
  ListArgument out;
  // Leading words made only of ls option letters are options; anything else starts the path.
  while (argument.size() >= 2 && argument[0] == '-') {
    const auto end = argument.find(' ');
    const auto word = argument.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
    if (word.empty() || word.find_first_not_of("aAlLR1dFhtrSCn") != std::string_view::npos) break;
    if (word.find_first_of("aA") != std::string_view::npos) out.all = true;
    if (word.find('l') != std::string_view::npos) out.long_form = true;
    argument = end == std::string_view::npos ? std::string_view{} : argument.substr(end + 1);
    while (!argument.empty() && argument.front() == ' ') argument.remove_prefix(1);
  }
  out.path = std::string(argument);
  return out;
}

bool has_glob(std::string_view name) noexcept {
  return name.find_first_of("*?[") != std::string_view::npos;
}

}  // namespace ftpsd::protocol
