#pragma once
// What `make run` prints once the server listens on the embedded default configuration (run/ftpsd.toml):
// how to connect with curl, lftp, FileZilla and Python, and where the Manager's web console is.
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace ftpsd::app {

// `listeners`: the bound ones (explicit FTPS first, then implicit FTPS, as the embedded default has them);
// `manager_url`: the Manager's, empty when it is off; `source`: the configuration's file (or the embedded
// default's name).
void print_connect_help(const std::vector<config::ListenerConfig>& listeners, const std::string& manager_url,
                        const std::filesystem::path& source);

}  // namespace ftpsd::app
