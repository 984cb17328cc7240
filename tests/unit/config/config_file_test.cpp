// ConfigFile: a change replaces only the text it was made from, keeps the previous one as a revision.
#include "config/config_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "test_dir.hpp"

using ftpsd::config::ConfigFile;

namespace {

void write(const std::filesystem::path& p, std::string_view text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(ConfigFile, AChangeKeepsThePreviousTextAsTheNextRevision) {
  ftpsd::test::TempDir dir("config-file");
  const auto path = dir.path() / "ftpsd.toml";
  write(path, "one\n");
  ::chmod(path.c_str(), 0640);
  auto file = ConfigFile::open(path);
  ASSERT_TRUE(file) << file.error();
  EXPECT_EQ(file->text(), "one\n");
  auto first = file->replace("two\n");
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(*first, 1U);
  EXPECT_EQ(read(path), "two\n");
  auto second = file->replace("three\n");  // the file object follows its own writes
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(*second, 2U);
  const auto kept = ConfigFile::revisions(path);
  ASSERT_EQ(kept.size(), 2U);
  EXPECT_EQ(kept[0].number, 1U);
  EXPECT_EQ(kept[1].number, 2U);
  EXPECT_EQ(*ConfigFile::revision_text(path, 1), "one\n");
  EXPECT_EQ(*ConfigFile::revision_text(path, 2), "two\n");
  EXPECT_EQ(ConfigFile::revision_text(path, 3).error(),
            path.string() + " has no revision 3 (see `ftpsd config revisions`)");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640U) << "the file keeps its mode";
  ASSERT_EQ(::stat(kept[0].path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U) << "revisions are the owner's only";
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST(ConfigFile, AFileEditedMeanwhileIsNotOverwritten) {
  ftpsd::test::TempDir dir("config-file");
  const auto path = dir.path() / "ftpsd.toml";
  write(path, "one\n");
  auto file = ConfigFile::open(path);
  ASSERT_TRUE(file);
  write(path, "edited by hand\n");
  auto r = file->replace("two\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(),
            path.string() +
                " changed since it was read (edited by hand meanwhile?); nothing was written: read it "
                "again and repeat the change");
  EXPECT_EQ(read(path), "edited by hand\n");
  EXPECT_TRUE(ConfigFile::revisions(path).empty());
}

TEST(ConfigFile, AMissingFileIsAnError) {
  ftpsd::test::TempDir dir("config-file");
  EXPECT_EQ(ConfigFile::open(dir.path() / "none.toml").error(),
            (dir.path() / "none.toml").string() + ": cannot read it");
}
