#include "protocol/telnet.hpp"

namespace ftpsd::protocol {
namespace {

constexpr unsigned char kIac = 255;
constexpr unsigned char kSe = 240;  // end of subnegotiation
constexpr unsigned char kSb = 250;  // start of subnegotiation
constexpr unsigned char kWill = 251;
constexpr unsigned char kDont = 254;
constexpr unsigned char kFirstCommand = 240;  // SE: the lowest Telnet command code

}  // namespace

std::string strip_telnet(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  const auto at = [&line](std::size_t i) { return static_cast<unsigned char>(line[i]); };
  std::size_t i = 0;
  while (i < line.size()) {
    if (at(i) != kIac) {
      out.push_back(line[i++]);
      continue;
    }
    if (i + 1 == line.size()) break;  // a lone IAC at the end
    const unsigned char cmd = at(i + 1);
    if (cmd == kIac) {
      out.push_back(line[i + 1]);
      i += 2;
    } else if (cmd >= kWill && cmd <= kDont) {
      i += 3;  // IAC, the verb and its option byte
    } else if (cmd == kSb) {
      // Skip to IAC SE (or the end of the line); IAC IAC inside is data of the subnegotiation.
      i += 2;
      while (i < line.size() && !(at(i) == kIac && i + 1 < line.size() && at(i + 1) == kSe))
        i += at(i) == kIac ? 2 : 1;
      i += 2;
    } else if (cmd >= kFirstCommand) {
      i += 2;
    } else {
      ++i;  // not a Telnet command: keep the byte, drop the IAC
    }
  }
  return out;
}

}  // namespace ftpsd::protocol
