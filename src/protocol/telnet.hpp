#pragma once
// Telnet commands in the FTP control connection (RFC 959 §4.1.3 and §5.2, RFC 854). Pure.
#include <string>
#include <string_view>

namespace ftpsd::protocol {

// Removes Telnet commands from one command line (its CRLF already cut off):
// - IAC IAC is one data byte 0xFF;
// - IAC WILL/WONT/DO/DONT <option> are dropped: option negotiation is ignored, never answered, so a
//   client waiting for an answer gets none (RFC 1123 §4.1.2.12 lets a server refuse every option);
// - IAC SB ... IAC SE (a subnegotiation) is dropped whole;
// - every other two-byte command (IP, DM, AYT, AO, EC, EL, GA, NOP, BRK) is dropped;
// - IAC followed by a byte that is no Telnet command (< 240) loses only the IAC. This is how the
//   Data Mark of `IAC IP IAC DM ABOR` arrives when the client sent DM as TCP urgent data: the kernel
//   takes the urgent byte out of the stream, and "IAC IP IAC ABOR" must still read as "ABOR".
// A command cut off by the end of the line is dropped.
[[nodiscard]] std::string strip_telnet(std::string_view line);

}  // namespace ftpsd::protocol
