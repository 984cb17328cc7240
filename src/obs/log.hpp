#pragma once
// Logging: spdlog to stderr. A session's lines carry its id, client address and user.
#include <spdlog/spdlog.h>

#include <string>

namespace ftpsd::obs {

void init_logging(const std::string& level);

}  // namespace ftpsd::obs
