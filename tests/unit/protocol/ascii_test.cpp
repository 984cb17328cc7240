#include "protocol/ascii.hpp"

#include <gtest/gtest.h>

using namespace ftpsd::protocol;

TEST(Ascii, ToNetworkAddsCrOnlyForBareLf) {
  std::string out;
  bool cr = false;
  to_network_ascii("a\nb\r\nc", out, cr);
  EXPECT_EQ(out, "a\r\nb\r\nc");
}

TEST(Ascii, ToNetworkAcrossChunks) {
  std::string out;
  std::string all;
  bool cr = false;
  to_network_ascii("x\r", out, cr);
  all += out;
  to_network_ascii("\ny\n", out, cr);
  all += out;
  EXPECT_EQ(all, "x\r\ny\r\n");
}

TEST(Ascii, FromNetworkAcrossChunks) {
  std::string out;
  std::string all;
  bool cr = false;
  from_network_ascii("a\r", out, cr);
  all += out;
  from_network_ascii("\nb\rc\r", out, cr);
  all += out;
  finish_from_network_ascii(out, cr);
  all += out;
  EXPECT_EQ(all, "a\nb\rc\r");
}
