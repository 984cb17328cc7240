#pragma once
// The cluster database's tables and their versions. ftpsd_schema holds one row per migration applied;
// the schema's version is the highest. migrate() applies what is missing, in one transaction under an
// advisory lock (two nodes starting at once do it once), and is a no-op when the schema is current.
#include <string>

#include "cluster/pg.hpp"

namespace ftpsd::cluster {

// The version this binary creates and understands.
inline constexpr int kSchemaVersion = 9;

struct Migration {
  int before = 0;  // 0: the database had no ftpsd tables
  int after = 0;   // kSchemaVersion
};

// Error: the database is unreachable, refused a statement, or has a newer schema than this binary
// knows (a newer ftpsd migrated it: this one must not write to it).
[[nodiscard]] Result<Migration, DbError> migrate(Connection& db);

}  // namespace ftpsd::cluster
