#include "protocol/ascii.hpp"

namespace ftpsd::protocol {

void to_network_ascii(std::string_view in, std::string& out, bool& last_was_cr) {
  out.clear();
  out.reserve(in.size() + in.size() / 16);
  for (char c : in) {
    if (c == '\n' && !last_was_cr) out.push_back('\r');
    out.push_back(c);
    last_was_cr = c == '\r';
  }
}

void from_network_ascii(std::string_view in, std::string& out, bool& pending_cr) {
  out.clear();
  out.reserve(in.size());
  for (char c : in) {
    if (pending_cr) {
      pending_cr = false;
      if (c != '\n') out.push_back('\r');
    }
    if (c == '\r') {
      pending_cr = true;
      continue;
    }
    out.push_back(c);
  }
}

void finish_from_network_ascii(std::string& out, bool& pending_cr) {
  out.clear();
  if (pending_cr) out.push_back('\r');
  pending_cr = false;
}

}  // namespace ftpsd::protocol
