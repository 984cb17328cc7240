#include "protocol/listing.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace ftpsd::protocol;

namespace {
constexpr std::int64_t kNow = 1'763'700'000;  // 2025-11-21
}

TEST(ListLine, RecentFileShowsTimeOfDay) {
  FileInfo f{
      .name = "-dash name.txt", .type = FileType::kFile, .size = 1234, .mtime = kNow - 3600, .mode = 0644};
  const auto line = format_list_line(f, kNow);
  EXPECT_EQ(line.substr(0, 10), "-rw-r--r--");
  EXPECT_NE(line.find(" 1234 Nov 21 "), std::string::npos) << line;
  EXPECT_NE(line.find(':'), std::string::npos);
  EXPECT_TRUE(line.ends_with(" -dash name.txt"));
}

TEST(ListLine, OldDirectoryShowsYear) {
  FileInfo d{.name = "old", .type = FileType::kDirectory, .size = 4096, .mtime = 946'684'800, .mode = 0755};
  const auto line = format_list_line(d, kNow);
  EXPECT_EQ(line.substr(0, 10), "drwxr-xr-x");
  EXPECT_NE(line.find("Jan  1  2000 old"), std::string::npos) << line;
}

TEST(Facts, FileAndDirectory) {
  FileInfo f{
      .name = "a", .type = FileType::kFile, .size = 5, .mtime = 0, .mode = 0600, .device = 1, .inode = 2};
  EXPECT_EQ(format_facts(f, true),
            "type=file;size=5;modify=19700101000000;perm=adfrw;unique=1g2;UNIX.mode=0600; ");
  FileInfo d{.name = "d", .type = FileType::kDirectory, .mode = 0755};
  EXPECT_EQ(format_facts(d, false).substr(0, 9), "type=dir;");
  EXPECT_NE(format_facts(d, false).find("perm=el;"), std::string::npos);
}

TEST(Facts, OnlyTheSelectedOnesInTheServersOrder) {
  const FileInfo f{
      .name = "a", .type = FileType::kFile, .size = 5, .mtime = 0, .mode = 0600, .device = 1, .inode = 2};
  const FileInfo d{.name = "d", .type = FileType::kDirectory, .mode = 0755};
  const auto bits = [](std::initializer_list<Fact> facts) {
    FactSet out = 0;
    for (auto f : facts) out |= static_cast<FactSet>(f);
    return out;
  };
  EXPECT_EQ(format_facts(f, true, kAllFacts), format_facts(f, true));
  EXPECT_EQ(format_facts(f, true, bits({Fact::kSize})), "size=5; ");
  EXPECT_EQ(format_facts(f, false, bits({Fact::kUnixMode, Fact::kType, Fact::kPerm})),
            "type=file;perm=r;UNIX.mode=0600; ");
  EXPECT_EQ(format_facts(f, true, bits({Fact::kModify, Fact::kUnique})),
            "modify=19700101000000;unique=1g2; ");
  EXPECT_EQ(format_facts(d, true, bits({Fact::kSize})), " ") << "a folder has no size";
  EXPECT_EQ(format_facts(f, true, 0), " ") << "no facts: only the space before the name";
  // One formatter: the cached modify date is not shown when modify is not selected.
  ListFormatter formatter(kNow, true, bits({Fact::kType}));
  std::string out;
  formatter.append_facts(out, f);
  formatter.append_facts(out, d);
  EXPECT_EQ(out, "type=file; type=dir; ");
}

TEST(Facts, ParseTheListOfOptsMlst) {
  const auto bits = [](std::initializer_list<Fact> facts) {
    FactSet out = 0;
    for (auto f : facts) out |= static_cast<FactSet>(f);
    return out;
  };
  EXPECT_EQ(parse_fact_list("type;size;"), bits({Fact::kType, Fact::kSize}));
  EXPECT_EQ(parse_fact_list("Size;TYPE;unix.MODE;"), bits({Fact::kType, Fact::kSize, Fact::kUnixMode}));
  EXPECT_EQ(parse_fact_list("size"), bits({Fact::kSize})) << "the last ';' may be left out";
  EXPECT_EQ(parse_fact_list("create;lang;size;OS.unix=x;"), std::nullopt) << "'=' is no fact name";
  EXPECT_EQ(parse_fact_list("create;lang;size;media-type;"), bits({Fact::kSize})) << "unknown: ignored";
  EXPECT_EQ(parse_fact_list("modify;perm;unique;UNIX.mode;type;size;"), kAllFacts);
  EXPECT_EQ(parse_fact_list(""), FactSet{0}) << "an empty list selects none";
  EXPECT_EQ(parse_fact_list(";"), FactSet{0});
  EXPECT_EQ(parse_fact_list("unique type;"), std::nullopt) << "separated by ';', not spaces";
  EXPECT_EQ(parse_fact_list("type;;size;"), std::nullopt);
  EXPECT_EQ(parse_fact_list(" type;"), std::nullopt);
}

TEST(Facts, Names) {
  EXPECT_EQ(fact_names(kAllFacts), "type;size;modify;perm;unique;UNIX.mode;");
  EXPECT_EQ(fact_names(0), "");
  EXPECT_EQ(fact_names(static_cast<FactSet>(Fact::kUnixMode) | static_cast<FactSet>(Fact::kType)),
            "type;UNIX.mode;");
  EXPECT_EQ(fact_names(kAllFacts, true), "type*;size*;modify*;perm*;unique*;UNIX.mode*;");
  EXPECT_EQ(fact_names(static_cast<FactSet>(Fact::kSize), true), "type;size*;modify;perm;unique;UNIX.mode;");
}

TEST(TimeVal, RoundTripAndErrors) {
  EXPECT_EQ(format_time_val(1'000'000'000), "20010909014640");
  EXPECT_EQ(parse_time_val("20010909014640"), 1'000'000'000);
  EXPECT_EQ(parse_time_val("20010909014640.123"), 1'000'000'000);
  EXPECT_FALSE(parse_time_val("2001090901464"));
  EXPECT_FALSE(parse_time_val("20011309014640"));
  EXPECT_FALSE(parse_time_val("2001090901464x"));
}

TEST(ListArgument, OptionsBeforePath) {
  EXPECT_EQ(parse_list_argument("-la /pub").path, "/pub");
  EXPECT_TRUE(parse_list_argument("-la").all);
  EXPECT_EQ(parse_list_argument("-a -l dir x").path, "dir x");
  EXPECT_EQ(parse_list_argument("-1").path, "");
  EXPECT_EQ(parse_list_argument("-dash-file").path, "-dash-file");  // not an option word
  EXPECT_EQ(parse_list_argument("").path, "");
}

TEST(ListFormatter, SameLinesAsTheOneLineFormatters) {
  // One formatter over entries whose mtimes repeat and change: its date cache must never show the
  // previous entry's date.
  const std::vector<FileInfo> entries = {
      {.type = FileType::kFile,
       .size = 0,
       .mtime = kNow - 60,
       .mode = 0644,
       .nlink = 1,
       .device = 1,
       .inode = 2},
      {.type = FileType::kFile,
       .size = 99,
       .mtime = kNow - 60,
       .mode = 0600,
       .nlink = 2,
       .device = 1,
       .inode = 3},
      {.type = FileType::kDirectory, .size = 4096, .mtime = 946'684'800, .mode = 0755, .nlink = 12345},
      {.type = FileType::kSymlink,
       .size = 7,
       .mtime = kNow + 7200,
       .mode = 0777,
       .device = 0xfd01,
       .inode = 0xabc},
      {.type = FileType::kOther, .size = 0, .mtime = kNow - 200LL * 24 * 3600, .mode = 04711},
      {.type = FileType::kFile, .size = 123'456'789'012'345, .mtime = kNow - 3600, .mode = 0, .nlink = 1},
      {.type = FileType::kFile, .size = 1, .mtime = 0, .mode = 07777, .nlink = 1},
      {.type = FileType::kFile, .size = 1, .mtime = kNow - 3600, .mode = 0644, .nlink = 1},
  };
  for (const bool writable : {false, true}) {
    ListFormatter formatter(kNow, writable);
    for (const auto& info : entries) {
      std::string line;
      formatter.append_list_line(line, info, "a name");
      auto named = info;
      named.name = "a name";
      EXPECT_EQ(line, format_list_line(named, kNow));
      std::string facts;
      formatter.append_facts(facts, info);
      EXPECT_EQ(facts, format_facts(info, writable));
    }
  }
}

TEST(ListFormatter, ExactFields) {
  ListFormatter formatter(kNow, true);
  std::string out;
  const FileInfo f{.type = FileType::kFile, .size = 1234, .mtime = kNow - 3600, .mode = 0644, .nlink = 3};
  formatter.append_list_line(out, f, "x y");
  EXPECT_EQ(out, "-rw-r--r--    3 ftp      ftp              1234 Nov 21 03:40 x y");
  out.clear();
  const FileInfo d{
      .type = FileType::kDirectory, .mtime = 946'684'800, .mode = 0755, .device = 0x801, .inode = 255};
  formatter.append_facts(out, d);
  EXPECT_EQ(out, "type=dir;modify=20000101000000;perm=cdeflmp;unique=801gff;UNIX.mode=0755; ");
  out.clear();
  formatter.append_list_line(out, d, "old");
  EXPECT_EQ(out, "drwxr-xr-x    1 ftp      ftp                 0 Jan  1  2000 old");
}
