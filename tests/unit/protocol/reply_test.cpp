#include "protocol/reply.hpp"

#include <gtest/gtest.h>

using namespace ftpsd::protocol;

TEST(Serialize, SingleLine) {
  EXPECT_EQ(serialize({ReplyCode::kOk, "NOOP ok."}), "200 NOOP ok.\r\n");
}

TEST(Serialize, MultiLineHasDashFirstAndSpaceIndentedMiddle) {
  Reply r{ReplyCode::kSystemStatus, std::vector<std::string>{"Features:", "EPSV", "211 not an end", "End"}};
  EXPECT_EQ(serialize(r), "211-Features:\r\n EPSV\r\n 211 not an end\r\n211 End\r\n");
}

TEST(Serialize, CrLfInsideTextCannotInjectAReply) {
  EXPECT_EQ(serialize({ReplyCode::kFileUnavailable, "a\r\n230 b"}), "550 a  230 b\r\n");
}

TEST(QuotePath, DoublesQuotes) {
  EXPECT_EQ(quote_path("/a\"b"), "\"/a\"\"b\"");
}
