#pragma once
// Files compiled into the binary by ftpsd_embed (cmake/Embed.cmake).
#include <span>
#include <string_view>

namespace ftpsd {

struct EmbeddedFile {
  std::string_view name;  // as given to ftpsd_embed: "openapi.json", "console/index.html"
  std::string_view data;
};

namespace embedded {
// The Manager's API description (docs/openapi.json): one file, "openapi.json".
std::span<const EmbeddedFile> api_documents();
// The web console (web/, and Bootstrap and Chart.js from Debian's libjs-bootstrap5 and libjs-chart.js):
// "index.html", "app.js", "vendor/bootstrap.min.css", ... served at "/" + name.
std::span<const EmbeddedFile> console_files();
}  // namespace embedded

}  // namespace ftpsd
