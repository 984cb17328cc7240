#include "obs/log_tail.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace ftpsd::obs {
namespace {

TEST(LogTail, KeepsTheNewestLinesOfEachKindNumberedInOneSequence) {
  LogTail tail(3);
  for (int i = 1; i <= 5; ++i) tail.append(LogKind::kSession, "info", "session line " + std::to_string(i));
  tail.append(LogKind::kTransfer, "info", "transfer line");
  const auto session = tail.recent(LogKind::kSession, 10, "");
  ASSERT_EQ(session.size(), 3U);
  EXPECT_EQ(session.front().text, "session line 3");
  EXPECT_EQ(session.back().seq, 5U);
  EXPECT_EQ(tail.recent(LogKind::kTransfer, 10, "").at(0).seq, 6U);
  const auto filtered = tail.recent(LogKind::kSession, 10, "line 4");
  ASSERT_EQ(filtered.size(), 1U);
  EXPECT_EQ(filtered[0].seq, 4U);
  EXPECT_EQ(tail.recent(LogKind::kSession, 1, "").at(0).text, "session line 5");
  EXPECT_EQ(log_kind("transfer"), LogKind::kTransfer);
  EXPECT_FALSE(log_kind("audit"));
}

TEST(LogTail, AfterReturnsWhatFollowsAndWaitsForTheNextLine) {
  LogTail tail;
  tail.append(LogKind::kSession, "info", "a");
  tail.append(LogKind::kSession, "warning", "b");
  std::uint64_t seq = 1;
  auto lines = tail.after(LogKind::kSession, seq, "", std::chrono::milliseconds(0));
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].level, "warning");
  EXPECT_EQ(seq, 2U);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    tail.append(LogKind::kSession, "info", "c");
  });
  lines = tail.after(LogKind::kSession, seq, "", std::chrono::seconds(30));  // returns when "c" comes
  writer.join();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0].text, "c");
  EXPECT_EQ(seq, 3U);
  // A line the filter leaves out still moves seq past it.
  tail.append(LogKind::kSession, "info", "d");
  EXPECT_TRUE(tail.after(LogKind::kSession, seq, "zzz", std::chrono::milliseconds(0)).empty());
  EXPECT_EQ(seq, 4U);
}

}  // namespace
}  // namespace ftpsd::obs
