#include "tools/nat_commands.hpp"

#include <fmt/format.h>

#include "net/passive_host_resolver.hpp"
#include "tools/config_check.hpp"
#include "tools/firewall.hpp"
#include "tools/nat_lint.hpp"

namespace ftpsd::tools {

int cmd_firewall(const config::Config& cfg, const std::string& format, const std::string& nat_to,
                 const std::string& domain) {
  const auto f = parse_firewall_format(format);
  if (!f) {
    fmt::print(stderr, "ftpsd: unknown format '{}': use text, nftables, iptables, ufw or firewalld\n",
               format);
    return 2;
  }
  if (!nat_to.empty()) {
    std::error_code ec;
    const auto a = asio::ip::make_address(nat_to, ec);
    if (ec || !a.is_v4()) {
      fmt::print(stderr, "ftpsd: --nat-to needs the server's internal IPv4 address\n");
      return 2;
    }
    if (*f != FirewallFormat::kNftables) {
      fmt::print(stderr, "ftpsd: --nat-to writes router rules for --format nftables only\n");
      return 2;
    }
  }
  auto plan =
      domain.empty() ? Result<FirewallPlan, std::string>(plan_firewall(cfg)) : plan_firewall(cfg, domain);
  if (!plan) {
    fmt::print(stderr, "ftpsd: --domain: {}\n", plan.error());
    return 2;
  }
  fmt::print("{}", render_firewall(*plan, *f, {.nat_to = nat_to}));
  return 0;
}

void print_nat_findings(const config::Config& cfg, const std::vector<LintFinding>& findings) {
  for (const auto& finding : findings) fmt::print(stderr, "{}\n", describe(cfg, finding));
}

}  // namespace ftpsd::tools
