#pragma once
// The CLI side of `ftpsd firewall` and of the NAT part of `ftpsd check-config`.
#include <string>

#include "config/config.hpp"

namespace ftpsd::tools {

// Prints the firewall plan of `cfg` in `format` (text, nftables, iptables, ufw, firewalld) to stdout.
// `nat_to`: the server's internal address, for router rules (nftables); `domain`: only what that domain
// needs (empty: every domain). Returns the exit code.
int cmd_firewall(const config::Config& cfg, const std::string& format, const std::string& nat_to,
                 const std::string& domain = {});

// Prints the NAT findings of `cfg` to stderr as "FILE:LINE: warning: KEY: text". Returns true when
// none is an error.
bool print_nat_lint(const config::Config& cfg);

}  // namespace ftpsd::tools
