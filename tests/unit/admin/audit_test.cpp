#include "admin/audit.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "test_dir.hpp"

namespace ftpsd::admin {
namespace {

TEST(AuditLog, EntriesAreAppendedAndReadBackNewestFirstAfterARestart) {
  const test::TempDir dir("audit");
  const auto file = dir.path() / "audit.jsonl";
  {
    auto log = AuditLog::open(file);
    ASSERT_TRUE(log) << log.error();
    (*log)->record({.who = "root",
                    .address = "127.0.0.1",
                    .action = "passive.update",
                    .target = "default",
                    .diff = "-a\n+b\n"});
    (*log)->record({.who = "op", .address = "::1", .action = "session.end", .target = "session 3"});
  }
  std::ofstream(file, std::ios::app) << "{\"who\": \"cut short";  // a crash in the middle of a line
  auto log = AuditLog::open(file, 1);
  ASSERT_TRUE(log) << log.error();
  (*log)->record({.who = "view", .address = "127.0.0.2", .action = "x", .target = "y"});
  auto recent = (*log)->recent(10);
  ASSERT_EQ(recent.size(), 1U);  // keep = 1
  EXPECT_EQ(recent[0]["who"], "view");
  auto again = AuditLog::open(file);
  ASSERT_TRUE(again);
  recent = (*again)->recent(10);
  ASSERT_EQ(recent.size(), 3U) << recent.dump();
  EXPECT_EQ(recent[0]["who"], "view");
  EXPECT_EQ(recent[1]["action"], "session.end");
  EXPECT_EQ(recent[2]["diff"], "-a\n+b\n");
  EXPECT_EQ((*again)->recent(2).size(), 2U);
}

TEST(AuditLog, AFileThatCannotBeOpenedIsNamedInTheError) {
  const test::TempDir dir("audit");
  const auto log = AuditLog::open(dir.path() / "missing" / "audit.jsonl");
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error(), "admin.audit_file " + (dir.path() / "missing" / "audit.jsonl").string() +
                             ": No such file or directory");
}

}  // namespace
}  // namespace ftpsd::admin
