#include "admin/http.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace ftpsd::admin {

void send_json(Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(Response& res, int status, std::string_view message, std::optional<std::string_view> field) {
  send_json(res, json{{"error", message}, {"field", field ? json(*field) : json(nullptr)}}, status);
}

std::optional<json> object_body(const Request& req, Response& res) {
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    send_error(res, 400, "the body must be a JSON object");
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> cookie(const Request& req, std::string_view name) {
  // "a=1; ftpsd_session=abc": pairs separated by ';' and spaces (RFC 6265, section 4.2.1).
  const auto count = req.get_header_value_count("Cookie");
  for (std::size_t i = 0; i < count; ++i) {
    const std::string header = req.get_header_value("Cookie", i);
    std::string_view rest = header;
    while (!rest.empty()) {
      const auto end = rest.find(';');
      auto pair = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      while (pair.starts_with(' ')) pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
        return std::string(pair.substr(name.size() + 1));
    }
  }
  return std::nullopt;
}

std::string utc(std::chrono::system_clock::time_point t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

std::string_view error_text(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such resource";
    case 405:
      return "method not allowed";
    case 413:
      return "request too large";
    case 414:
      return "request line too long";
    default:
      return "the request failed";
  }
}

}  // namespace ftpsd::admin
