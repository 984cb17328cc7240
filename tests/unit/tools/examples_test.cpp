// Every configuration in examples/ loads, and passes the NAT lint without errors (`ftpsd check-config`
// over each, users file and certificate included, is in tests/integration/test_service.py). A finding
// an example accepts on purpose is named in a line "# lint-accepts: KEY" of that example (e.g. a
// private passive.address on a server that serves only its LAN).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "config/loader.hpp"
#include "tools/nat_lint.hpp"

using namespace ftpsd;

namespace {

std::set<std::string> accepted_findings(const std::filesystem::path& file) {
  static constexpr std::string_view kMarker = "# lint-accepts: ";
  std::set<std::string> keys;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(kMarker)) keys.insert(line.substr(kMarker.size()));
  return keys;
}

}  // namespace

TEST(Examples, LoadAndLintClean) {
  const std::filesystem::path dir = std::filesystem::path(FTPSD_SOURCE_DIR) / "examples";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    // users.toml is the users file the examples share, not a server configuration.
    if (entry.path().extension() != ".toml" || entry.path().filename() == "users.toml") continue;
    ++seen;
    auto cfg = config::load_file(entry.path());
    ASSERT_TRUE(cfg) << cfg.error().message;
    // Host names in examples resolve to a documentation address here: no DNS in tests.
    const auto findings = tools::lint_nat(
        *cfg,
        [](const std::string&) -> Result<asio::ip::address_v4, std::string> {
          return asio::ip::make_address_v4("203.0.113.10");
        },
        tools::LintStage::kStart);
    const auto accepted = accepted_findings(entry.path());
    for (const auto& f : findings) {
      EXPECT_NE(f.severity, tools::LintFinding::Severity::kError)
          << entry.path() << ": " << f.key << ": " << f.message;
      EXPECT_TRUE(accepted.contains(f.key)) << entry.path() << ": " << f.key << ": " << f.message;
    }
  }
  EXPECT_GE(seen, 5);
}
