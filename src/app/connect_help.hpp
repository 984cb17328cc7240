#pragma once
// What `make run` prints once the server listens on its embedded default configuration: how to connect
// with curl, lftp, FileZilla and Python.
#include <vector>

#include "config/config.hpp"

namespace ftpsd::app {

// `listeners`: the bound ones (explicit FTPS first, then implicit FTPS, as the embedded default has them).
void print_connect_help(const std::vector<config::ListenerConfig>& listeners);

}  // namespace ftpsd::app
