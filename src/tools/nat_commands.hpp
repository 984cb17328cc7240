#pragma once
// The CLI side of `ftpsd firewall` and of the NAT part of `ftpsd check-config`.
#include <string>
#include <vector>

#include "config/config.hpp"
#include "tools/nat_lint.hpp"

namespace ftpsd::tools {

// Prints the firewall plan of `cfg` in `format` (text, nftables, iptables, ufw, firewalld) to stdout.
// `nat_to`: the server's internal address, for router rules (nftables); `domain`: only what that domain
// needs (empty: every domain). Returns the exit code.
int cmd_firewall(const config::Config& cfg, const std::string& format, const std::string& nat_to,
                 const std::string& domain = {});

// Prints NAT findings to stderr as check-config does: "FILE:LINE: warning: KEY: text".
void print_nat_findings(const config::Config& cfg, const std::vector<LintFinding>& findings);

}  // namespace ftpsd::tools
