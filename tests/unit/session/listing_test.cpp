// produce_listing on a real folder with the blocking pool's helpers: complete, sorted, every line formatted.
#include "session/listing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_dir.hpp"

using namespace ftpsd;
namespace fs = std::filesystem;

namespace {

class ListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(base_ / "big");
    fs_ = *vfs::LocalFs::open(base_.string());
  }

  std::shared_ptr<session::ListingJob> job(std::string_view dir, session::ListFormat format) {
    auto opened = fs_->open_listing(*vfs::VirtualPath::resolve(vfs::VirtualPath(), dir));
    EXPECT_TRUE(opened);
    auto j = std::make_shared<session::ListingJob>(fs_, std::move(*opened));
    j->format = format;
    j->now = 1'763'700'000;
    return j;
  }

  static std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (auto end = text.find("\r\n"); end != std::string::npos; end = text.find("\r\n", at)) {
      out.push_back(text.substr(at, end - at));
      at = end + 2;
    }
    EXPECT_EQ(at, text.size()) << "the text ends with CRLF";
    return out;
  }

  test::TempDir temp_{"listing"};
  const fs::path base_ = temp_.path();
  std::shared_ptr<const vfs::LocalFs> fs_;
  runtime::BlockingPool pool_{4};
};

}  // namespace

TEST_F(ListingTest, ManyEntriesArriveCompleteAndSorted) {
  std::vector<std::string> names;
  for (int i = 4999; i >= 0; --i)
    names.push_back("f" + std::to_string(i * 7919 % 5000) + (i % 3 ? " x" : ""));
  names.insert(names.end(), {"with\nnewline", "Zeta", "ünïcödé ✓", "-dash", ".hidden",
                             "a very long name " + std::string(200, 'n')});
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const auto& n : names) std::ofstream(base_ / "big" / n) << n;
  fs::create_directory(base_ / "big" / "sub dir");
  names.insert(std::upper_bound(names.begin(), names.end(), "sub dir"), "sub dir");
  for (const std::size_t helpers : {0u, 1u, 3u}) {
    auto produced = session::produce_listing(job("/big", session::ListFormat::kNames), pool_, helpers);
    ASSERT_TRUE(produced);
    EXPECT_EQ(produced->lines, names.size());
    auto got = lines(produced->text);
    // "with\nnewline" is one entry: its name is sent as it is.
    EXPECT_EQ(got, names) << "helpers=" << helpers;

    auto longs = session::produce_listing(job("/big", session::ListFormat::kLong), pool_, helpers);
    ASSERT_TRUE(longs);
    const auto long_lines = lines(longs->text);
    ASSERT_EQ(long_lines.size(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto& l = long_lines[i];
      EXPECT_TRUE(l.ends_with(" " + names[i])) << l;
      EXPECT_EQ(l[0], names[i] == "sub dir" ? 'd' : '-') << l;
      if (names[i] != "sub dir")
        EXPECT_NE(l.find(" " + std::to_string(names[i].size()) + " "), std::string::npos);
    }
    auto facts = session::produce_listing(job("/big", session::ListFormat::kMlsd), pool_, helpers);
    ASSERT_TRUE(facts);
    const auto fact_lines = lines(facts->text);
    ASSERT_EQ(fact_lines.size(), names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      EXPECT_TRUE(fact_lines[i].starts_with(names[i] == "sub dir" ? "type=dir;" : "type=file;size="));
      EXPECT_TRUE(fact_lines[i].ends_with("; " + names[i])) << fact_lines[i];
    }
  }
}

TEST_F(ListingTest, GlobSelectsNamesAndHidesDotFiles) {
  for (const char* n : {"a.txt", "b.txt", ".c.txt", "d.bin"}) std::ofstream(base_ / "big" / n) << n;
  auto j = job("/big", session::ListFormat::kNames);
  j->pattern = "*.txt";
  auto produced = session::produce_listing(j, pool_, 1);
  ASSERT_TRUE(produced);
  EXPECT_EQ(produced->text, "a.txt\r\nb.txt\r\n");
  j = job("/big", session::ListFormat::kNames);
  j->pattern = "*.none";
  produced = session::produce_listing(j, pool_, 1);
  ASSERT_TRUE(produced);
  EXPECT_EQ(produced->lines, 0u);
}

TEST_F(ListingTest, CancelledJobStops) {
  for (int i = 0; i < 100; ++i) std::ofstream(base_ / "big" / std::to_string(i)) << i;
  auto j = job("/big", session::ListFormat::kLong);
  j->cancelled = true;
  auto produced = session::produce_listing(j, pool_, 1);
  ASSERT_FALSE(produced);
  EXPECT_EQ(produced.error(), std::errc::operation_canceled);
}
