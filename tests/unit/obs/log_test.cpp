#include "obs/log.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace ftpsd::obs {
namespace {

std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quote("x\ny\t\x01"), R"("x\ny\t\u0001")");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");           // valid UTF-8 stays
  EXPECT_EQ(json_quote("bad\xff\xc3"), R"("bad\ufffd\ufffd")");      // invalid bytes replaced
  EXPECT_EQ(json_quote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // a surrogate is not UTF-8
}

TEST(Xferlog, EighteenFieldsWithSpacesReplaced) {
  setenv("TZ", "UTC", 1);
  tzset();
  XferRecord r{.end = std::chrono::system_clock::from_time_t(1'700'000'000),
               .duration = std::chrono::milliseconds(2400),
               .remote_host = "192.0.2.7",
               .bytes = 1234,
               .filename = "/srv/ftp/alice/my file\t.txt",
               .ascii = false,
               .incoming = true,
               .anonymous = false,
               .user = "alice",
               .complete = true};
  const auto line = format_xferlog(r);
  EXPECT_EQ(line,
            "Tue Nov 14 22:13:20 2023 3 192.0.2.7 1234 /srv/ftp/alice/my_file_.txt b _ i r alice ftp 0 * c");
  EXPECT_EQ(fields(line).size(), 18u);
}

TEST(Xferlog, ShortTransferIsOneSecondAndIncompleteIsI) {
  XferRecord r{.end = std::chrono::system_clock::from_time_t(1'700'000'000),
               .duration = std::chrono::milliseconds(3),
               .remote_host = "::1",
               .bytes = 0,
               .filename = "/f",
               .ascii = true,
               .incoming = false,
               .anonymous = true,
               .user = "anonymous",
               .complete = false};
  const auto f = fields(format_xferlog(r));
  ASSERT_EQ(f.size(), 18u);
  EXPECT_EQ(f[5], "1");
  EXPECT_EQ(f[9], "a");
  EXPECT_EQ(f[11], "o");
  EXPECT_EQ(f[12], "a");
  EXPECT_EQ(f[17], "i");
}

}  // namespace
}  // namespace ftpsd::obs
