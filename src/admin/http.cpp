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
