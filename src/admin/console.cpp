#include "admin/console.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/embedded.hpp"

namespace ftpsd::admin {
namespace {

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// The files change only with the binary: a strong validator from their bytes (FNV-1a, 64 bits).
std::string etag(std::string_view data) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}\"", h);
}

void serve(const EmbeddedFile& file, const std::string& tag, const httplib::Request& req,
           httplib::Response& res) {
  // Cached, but asked again each time (a new binary may bring new files under the same names): a
  // 304 when the browser has them already.
  res.headers.erase("Cache-Control");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", tag);
  if (req.get_header_value("If-None-Match") == tag) {
    res.status = 304;
    return;
  }
  res.set_content(std::string(file.data), std::string(content_type(file.name)));
}

}  // namespace

void add_console_files(httplib::Server& server) {
  for (const auto& file : embedded::console_files()) {
    const auto tag = etag(file.data);
    auto handler = [&file, tag](const httplib::Request& req, httplib::Response& res) {
      serve(file, tag, req, res);
    };
    std::string path;
    for (const char c : file.name) {
      if (c == '.') path += '\\';
      path += c;
    }
    server.Get("/" + path, handler);
    if (file.name == "index.html") server.Get("/", handler);
  }
}

}  // namespace ftpsd::admin
