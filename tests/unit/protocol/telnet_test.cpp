#include "protocol/telnet.hpp"

#include <gtest/gtest.h>

#include <string>

using ftpsd::protocol::strip_telnet;
using namespace std::string_literals;

namespace {
// Telnet bytes (RFC 854).
const std::string kIac = "\xff";
const std::string kIp = "\xf4";
const std::string kDm = "\xf2";
const std::string kAyt = "\xf6";
const std::string kSb = "\xfa";
const std::string kSe = "\xf0";
}  // namespace

TEST(StripTelnet, PlainLineUnchanged) {
  EXPECT_EQ(strip_telnet("RETR a b.txt"), "RETR a b.txt");
  EXPECT_EQ(strip_telnet(""), "");
  EXPECT_EQ(strip_telnet("RETR \xc3\xa9t\xc3\xa9"), "RETR \xc3\xa9t\xc3\xa9");
}

TEST(StripTelnet, AborAfterInterruptAndDataMark) {
  EXPECT_EQ(strip_telnet(kIac + kIp + kIac + kDm + "ABOR"), "ABOR");
}

TEST(StripTelnet, AborWhenTheDataMarkWentOutOfBand) {
  // The client sent DM as TCP urgent data: the kernel removed it from the stream.
  EXPECT_EQ(strip_telnet(kIac + kIp + kIac + "ABOR"), "ABOR");
}

TEST(StripTelnet, OtherTwoByteCommandsRemovedAnywhere) {
  EXPECT_EQ(strip_telnet("NO" + kIac + kAyt + "OP"), "NOOP");
  EXPECT_EQ(strip_telnet("NOOP" + kIac + "\xf1"), "NOOP");  // IAC NOP
}

TEST(StripTelnet, DoubledIacIsOneDataByte) {
  EXPECT_EQ(strip_telnet("RETR a" + kIac + kIac + "b"), "RETR a\xff"s + "b");
  EXPECT_EQ(strip_telnet(kIac + kIac + kIac + kIac), "\xff\xff");
}

TEST(StripTelnet, OptionNegotiationIgnored) {
  for (const char* verb : {"\xfb", "\xfc", "\xfd", "\xfe"})  // WILL WONT DO DONT
    EXPECT_EQ(strip_telnet(kIac + verb + "\x01" + "PWD"), "PWD") << int(static_cast<unsigned char>(*verb));
  // The option byte is taken whatever it is, even IAC.
  EXPECT_EQ(strip_telnet(kIac + "\xfd" + kIac + "PWD"), "PWD");
}

TEST(StripTelnet, SubnegotiationRemovedWhole) {
  EXPECT_EQ(strip_telnet(kIac + kSb + "\x18\x01xterm" + kIac + kIac + kIac + kSe + "SYST"), "SYST");
  EXPECT_EQ(strip_telnet("SYST" + kIac + kSb + "never ends"), "SYST");
}

TEST(StripTelnet, CommandCutOffAtTheEndIsDropped) {
  EXPECT_EQ(strip_telnet("PWD" + kIac), "PWD");
  EXPECT_EQ(strip_telnet("PWD" + kIac + "\xfb"), "PWD");
}
