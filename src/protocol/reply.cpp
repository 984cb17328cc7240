#include "protocol/reply.hpp"

#include <algorithm>

namespace ftpsd::protocol {
namespace {

void append_clean(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace

std::string serialize(const Reply& reply) {
  const std::string code = std::to_string(reply.number());
  std::string out;
  const auto& lines = reply.lines;
  if (lines.size() <= 1) {
    out.reserve(code.size() + 3 + (lines.empty() ? 0 : lines[0].size()));
    out += code;
    out += ' ';
    if (!lines.empty()) append_clean(out, lines[0]);
    out += "\r\n";
    return out;
  }
  out += code;
  out += '-';
  append_clean(out, lines.front());
  out += "\r\n";
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    out += ' ';
    append_clean(out, lines[i]);
    out += "\r\n";
  }
  out += code;
  out += ' ';
  append_clean(out, lines.back());
  out += "\r\n";
  return out;
}

std::string quote_path(std::string_view path) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace ftpsd::protocol
