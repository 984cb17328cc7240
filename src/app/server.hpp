#pragma once
// The composition root: builds the shared services from a configuration, binds the listeners,
// runs the event loops until a stop signal.
#include <memory>

#include "config/config.hpp"

namespace ftpsd::app {

// Returns the process exit code. Errors at start-up (a port in use, an unreadable users file) are
// reported on stderr and give 1.
int run_server(const std::shared_ptr<const config::Config>& config, bool print_connect_help);

}  // namespace ftpsd::app
