// Every configuration in examples/ loads, and passes the NAT lint without errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "app/nat_lint.hpp"
#include "config/loader.hpp"

using namespace ftpsd;

TEST(Examples, LoadAndLintClean) {
  const std::filesystem::path dir = std::filesystem::path(FTPSD_SOURCE_DIR) / "examples";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".toml") continue;
    ++seen;
    auto cfg = config::load_file(entry.path());
    ASSERT_TRUE(cfg) << cfg.error().message;
    // Host names in examples resolve to a documentation address here: no DNS in tests.
    const auto findings =
        app::lint_nat(*cfg, [](const std::string&) -> Result<asio::ip::address_v4, std::string> {
          return asio::ip::make_address_v4("203.0.113.10");
        });
    for (const auto& f : findings)
      EXPECT_NE(f.severity, app::LintFinding::Severity::kError)
          << entry.path() << ": " << f.key << ": " << f.message;
    EXPECT_TRUE(findings.empty()) << entry.path() << ": " << findings.front().key << ": "
                                  << findings.front().message;
  }
  EXPECT_GE(seen, 3);
}
