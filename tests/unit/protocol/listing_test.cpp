#include "protocol/listing.hpp"

#include <gtest/gtest.h>

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
