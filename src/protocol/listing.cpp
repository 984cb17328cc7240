#include "protocol/listing.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

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

std::string mode_string(const FileInfo& info) {
  std::string s(10, '-');
  s[0] = type_char(info.type);
  constexpr std::string_view kRwx = "rwxrwxrwx";
  for (std::size_t i = 0; i < 9; ++i)
    if (info.mode & (0400u >> i)) s[i + 1] = kRwx[i];
  return s;
}

}  // namespace

std::string format_list_line(const FileInfo& info, std::int64_t now) {
  const std::tm tm = utc(info.mtime);
  const bool recent = info.mtime <= now + 3600 && now - info.mtime < kSixMonths;
  const std::string when =
      recent ? fmt::format("{:02}:{:02}", tm.tm_hour, tm.tm_min) : fmt::format("{:>5}", tm.tm_year + 1900);
  return fmt::format("{} {:>4} ftp      ftp      {:>12} {} {:>2} {} {}", mode_string(info), info.nlink,
                     info.size, kMonths.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_mday, when, info.name);
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

std::string format_facts(const FileInfo& info, bool writable) {
  const bool dir = info.type == FileType::kDirectory;
  // RFC 3659 §7.5.5: files a(ppend) d(elete) f(rename) r(etrieve) w(rite);
  // directories c(reate) d(elete) e(nter) f(rename) l(ist) m(kdir) p(urge).
  const char* perm = dir ? (writable ? "cdeflmp" : "el") : (writable ? "adfrw" : "r");
  const char* type = dir ? "dir" : (info.type == FileType::kFile ? "file" : "OS.unix=special");
  std::string facts = fmt::format("type={};", type);
  if (!dir) facts += fmt::format("size={};", info.size);
  facts += fmt::format("modify={};perm={};unique={:x}g{:x};UNIX.mode=0{:o}; ", format_time_val(info.mtime),
                       perm, info.device, info.inode, info.mode & 07777u);
  return facts;
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
