#pragma once
// `ftpsd config init|set|revisions|restore`: the configuration file changed by a command, checked as a whole
// before it is written, the previous text kept as a numbered revision (config::ConfigFile).
#include <optional>
#include <string>
#include <vector>

namespace ftpsd::app {

// KEY VALUE pairs; `domain`: the keys are that domain's ("default" or empty: the top level's).
// Returns the exit code (0 written, 1 not written: the reason is printed).
int cmd_config_set(const std::string& file, const std::vector<std::string>& key_values,
                   const std::string& domain);
int cmd_config_unset(const std::string& file, const std::vector<std::string>& keys,
                     const std::string& domain);
int cmd_config_revisions(const std::string& file);
// Writes the embedded default to `file` (never over an existing file): a start for an own configuration,
// its relative paths relative to the file's folder (make run writes run/ftpsd.toml).
int cmd_config_init(const std::string& file);
int cmd_config_restore(const std::string& file, unsigned number);

}  // namespace ftpsd::app
