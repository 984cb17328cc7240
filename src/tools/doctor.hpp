#pragma once
// `ftpsd doctor ftp[s]://user@host[:port]`: checks a server from the client's side, step by step, as
// a client behind the same network would see it, and prints a verdict and a fix for each step.
#include <string>

#include "tools/doctor_checks.hpp"
#include "util/duration.hpp"

namespace ftpsd::tools {

struct DoctorOptions {
  DoctorTarget target;
  std::string password;
  int passive_ports = 3;  // data connections to open in passive mode (each on a new PASV port)
  bool send_host = true;  // a host name in the URL: send HOST (RFC 7151) after the greeting
  // Connect to this address instead of the URL's host, which still goes as HOST and SNI and is checked
  // against the certificate (a domain checked before its DNS name points here). Empty: resolve the host.
  std::string connect_to;
  Duration timeout = std::chrono::seconds(10);
};

// Runs every step, printing progress on stdout. Returns the exit code: 0 when no step failed
// (warnings allowed), 1 otherwise.
int run_doctor(const DoctorOptions& options);

}  // namespace ftpsd::tools
