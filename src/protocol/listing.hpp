#pragma once
// Directory listing formats: LIST (ls -l, as FileZilla, WinSCP and curl parse it), NLST, MLSD/MLST
// facts (RFC 3659 §7), and the RFC 3659 time format. Pure.
#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace ftpsd::protocol {

enum class FileType : std::uint8_t { kFile, kDirectory, kSymlink, kOther };

struct FileInfo {
  std::string name;
  FileType type = FileType::kFile;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch, UTC
  std::uint32_t mode = 0;  // permission bits (07777)
  std::uint64_t nlink = 1;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
};

// "drwxr-xr-x    2 ftp      ftp          4096 Nov 21 14:12 name": the time of day for entries of the
// last six months (relative to `now`), the year otherwise. Owner and group are not disclosed.
[[nodiscard]] std::string format_list_line(const FileInfo& info, std::int64_t now);

// The MLSx facts this server knows (RFC 3659 §7.5), as bits of a selection (OPTS MLST, §7.9).
enum class Fact : std::uint8_t {
  kType = 1 << 0,
  kSize = 1 << 1,
  kModify = 1 << 2,
  kPerm = 1 << 3,
  kUnique = 1 << 4,
  kUnixMode = 1 << 5,
};
using FactSet = std::uint8_t;
inline constexpr FactSet kAllFacts = 0x3f;  // the default: every fact
[[nodiscard]] constexpr bool has(FactSet set, Fact f) noexcept {
  return (set & static_cast<FactSet>(f)) != 0;
}
// "type;size;": the names of `facts`, in the server's order, each followed by ';'. `marked`: the FEAT
// form, every supported fact with a '*' after the selected ones ("type*;size;").
[[nodiscard]] std::string fact_names(FactSet facts, bool marked = false);
// The fact list of OPTS MLST ("size;Type;", names in any case, the last ';' optional): the known facts
// it names (unknown ones are ignored; an empty list selects none). nullopt when it is not a list of
// names separated by ';' (a space in it, an empty name).
[[nodiscard]] std::optional<FactSet> parse_fact_list(std::string_view list);

// MLSx facts followed by "; " and nothing else (RFC 3659 §7.2); the caller appends the name or path.
// `writable` says whether the user may modify, which decides the perm fact; `facts`: the ones sent
// (without any, just the space).
[[nodiscard]] std::string format_facts(const FileInfo& info, bool writable, FactSet facts = kAllFacts);

// The same lines appended to one buffer, for listings of many entries: no allocation per line, and
// the date of the previous entry reused when the next one has the same mtime (entries of a folder
// often share it). `name` replaces info.name. One formatter per thread.
class ListFormatter {
 public:
  ListFormatter(std::int64_t now, bool writable, FactSet facts = kAllFacts) noexcept
      : now_(now), writable_(writable), facts_(facts) {}
  void append_list_line(std::string& out, const FileInfo& info,
                        std::string_view name);               // as format_list_line
  void append_facts(std::string& out, const FileInfo& info);  // as format_facts (no name)

 private:
  std::int64_t now_;
  bool writable_;
  FactSet facts_;
  std::int64_t list_mtime_ = 0;  // the entry list_date_ was made for (valid when list_date_len_ > 0)
  std::size_t list_date_len_ = 0;
  std::array<char, 24> list_date_{};  // "Nov 21 14:12" / "Jan  1  2000"
  std::int64_t facts_mtime_ = 0;      // the entry facts_time_ was made for (valid when facts_time_len_ > 0)
  std::size_t facts_time_len_ = 0;
  std::array<char, 24> facts_time_{};  // YYYYMMDDHHMMSS
};

// RFC 3659 §2.3 time-val: YYYYMMDDHHMMSS in UTC.
[[nodiscard]] std::string format_time_val(std::int64_t seconds);
// Parses YYYYMMDDHHMMSS with an optional .fraction (ignored); nullopt for anything else.
[[nodiscard]] std::optional<std::int64_t> parse_time_val(std::string_view text);

// The ls-style options clients send before a path to LIST/NLST ("-a", "-la", "-1"...).
struct ListArgument {
  bool all = false;        // -a / -A: we show dot files anyway; kept for completeness
  bool long_form = false;  // -l on NLST
  std::string path;        // what remains, possibly empty
};
[[nodiscard]] ListArgument parse_list_argument(std::string_view argument);

// True if `name` contains a glob character that NLST/LIST expand (* ? [).
[[nodiscard]] bool has_glob(std::string_view name) noexcept;

}  // namespace ftpsd::protocol
