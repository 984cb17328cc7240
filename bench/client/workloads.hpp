// The benchmark workloads. Each prints one JSON object on stdout.
#pragma once

#include <map>
#include <string>

#include "ftp_client.hpp"

namespace ftpbench {

// Command-line options after the workload name: --key value.
class Args {
 public:
  Args(int argc, char** argv, int first);
  std::string str(const std::string& key, const std::string& def = "") const;
  long long num(const std::string& key, long long def) const;
  bool flag(const std::string& key) const;
  Settings settings() const;

 private:
  std::map<std::string, std::string> kv_;
};

int run_get(const Args& a);
int run_put(const Args& a);
int run_small_get(const Args& a);
int run_small_put(const Args& a);
int run_list(const Args& a);
int run_concurrent(const Args& a);
int run_login(const Args& a);
int run_idle(const Args& a);
int run_tcp_ceiling(const Args& a);
int run_tls_ceiling(const Args& a);
int run_handshake_ceiling(const Args& a);

}  // namespace ftpbench
