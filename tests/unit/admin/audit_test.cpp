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

// [cluster]: a stand-in for the database (the app layer hands AuditLog the cluster's).
class FakeShare final : public AuditShare {
 public:
  void add(const json& entry) override { added.push_back(entry); }
  Result<json, std::string> recent(std::size_t limit) override {
    if (!reachable) return Unexpected{std::string("connection refused")};
    json out = json::array();
    for (auto it = added.rbegin(); it != added.rend() && out.size() < limit; ++it) out.push_back(*it);
    out.push_back(json{{"who", "other"}, {"node", "node-b"}});
    return out;
  }
  std::vector<json> added;
  bool reachable = true;
};

TEST(AuditLog, SharedEntriesNameTheNodeAndTheListingFallsBackToOwnEntries) {
  const test::TempDir dir("audit");
  auto log = AuditLog::open(dir.path() / "audit.jsonl");
  ASSERT_TRUE(log) << log.error();
  (*log)->record({.who = "before", .address = "::1", .action = "a", .target = "t"});
  EXPECT_FALSE((*log)->listing(10).contains("cluster_error"));
  EXPECT_FALSE((*log)->recent(1)[0].contains("node"));
  auto share = std::make_shared<FakeShare>();
  (*log)->share(share, "node-a");
  (*log)->record({.who = "root", .address = "::1", .action = "b", .target = "t"});
  ASSERT_EQ(share->added.size(), 1U);
  EXPECT_EQ(share->added[0]["node"], "node-a");
  EXPECT_EQ(share->added[0]["who"], "root");
  auto listed = (*log)->listing(10);
  EXPECT_FALSE(listed.contains("cluster_error"));
  ASSERT_EQ(listed["entries"].size(), 2U);
  EXPECT_EQ(listed["entries"][1]["node"], "node-b");
  share->reachable = false;
  listed = (*log)->listing(10);
  EXPECT_EQ(listed["cluster_error"], "connection refused");
  ASSERT_EQ(listed["entries"].size(), 2U) << listed.dump();
  EXPECT_EQ(listed["entries"][0]["who"], "root");
  EXPECT_EQ(listed["entries"][1]["who"], "before");
  EXPECT_EQ(listed["entries"][1]["node"], "node-a");
}

}  // namespace
}  // namespace ftpsd::admin
