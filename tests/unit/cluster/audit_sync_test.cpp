// The cluster's audit listing: the entries of this node not yet written placed among the database's.
#include "cluster/audit_sync.hpp"

#include <gtest/gtest.h>

using ftpsd::cluster::AuditRecord;
using ftpsd::cluster::merge_newest_first;

namespace {
AuditRecord at(const std::string& time, const std::string& who) {
  return AuditRecord{.time = time, .node = "n", .who = who};
}
std::string whos(const std::vector<AuditRecord>& records) {
  std::string out;
  for (const auto& r : records) out += r.who + " ";
  return out;
}
}  // namespace

TEST(AuditMerge, OursGoBeforeTheirsOfTheSameSecondOrOlderAndTheLimitHolds) {
  const std::vector theirs{at("2026-01-01T00:00:05Z", "t5"), at("2026-01-01T00:00:03Z", "t3"),
                           at("2026-01-01T00:00:01Z", "t1")};
  const std::vector ours{at("2026-01-01T00:00:06Z", "o6"), at("2026-01-01T00:00:03Z", "o3")};
  EXPECT_EQ(whos(merge_newest_first(theirs, ours, 10)), "o6 t5 o3 t3 t1 ");
  EXPECT_EQ(whos(merge_newest_first(theirs, ours, 3)), "o6 t5 o3 ");
  EXPECT_EQ(whos(merge_newest_first(theirs, {}, 2)), "t5 t3 ");
  EXPECT_EQ(whos(merge_newest_first({}, ours, 10)), "o6 o3 ");
}
