#pragma once
// The small vocabulary every route of the Manager speaks: JSON answers, JSON errors
// ({"error": "...", "field": ...} with a fitting status), JSON bodies, UTC times.
#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace ftpsd::admin {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

// Text from clients (a file name in a transfer) may be invalid UTF-8: written with U+FFFD in its place
// rather than failing the whole answer.
void send_json(Response& res, const json& body, int status = 200);
void send_error(Response& res, int status, std::string_view message,
                std::optional<std::string_view> field = {});

// The request's body as a JSON object; nullopt after answering 400 (not JSON, or not an object).
[[nodiscard]] std::optional<json> object_body(const Request& req, Response& res);

// The value of the cookie `name` in the request's Cookie header(s); nullopt when it has none.
[[nodiscard]] std::optional<std::string> cookie(const Request& req, std::string_view name);

// "2026-12-07T15:33:28Z"
[[nodiscard]] std::string utc(std::chrono::system_clock::time_point t);

template <class Duration>
[[nodiscard]] std::int64_t whole_seconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// The generic answer to an error cpp-httplib finds itself (no route, body too large, bad request line).
[[nodiscard]] std::string_view error_text(int status);

}  // namespace ftpsd::admin
