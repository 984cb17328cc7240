#pragma once
// What `make run` prints once the server listens on its embedded default configuration: how to connect
// with curl, lftp, FileZilla and Python, and
// where the Manager's web console is.
#include <string>
#include <vector>

#include "config/config.hpp"

namespace ftpsd::app {

// `listeners`: the bound ones (explicit FTPS first, then implicit FTPS, as the embedded default has them);
// `manager_url`: the Manager's, empty when it is off.
void print_connect_help(const std::vector<config::ListenerConfig>& listeners, const std::string& manager_url);

}  // namespace ftpsd::app
