// ftpbench: the load client of the ftpsd benchmark harness (bench/run.py).
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "workloads.hpp"

namespace {

constexpr const char* kUsage = R"(usage: ftpbench WORKLOAD [--key value ...]
workloads:
  get          --file F [--expect BYTES]           one RETR (MB/s)
  put          --file F --size BYTES               one STOR (MB/s)
  small-get    --dir D --count N                   RETR D/f00000.. on one session (files/s)
  small-put    --dir D --count N [--size 4096]     STOR D/s00000.. on one session (files/s)
  list         --path P [--verb LIST|MLSD]         one listing (ms, lines)
  concurrent   --clients N --file F [--expect B] [--ramp-ms MS]
               N clients log in and RETR F at once (connects spread over MS)
  login        --count N [--parallel P] [--seconds S]
               connect + (AUTH TLS) + USER/PASS + QUIT, N at most, none started after S
  idle         --sessions N [--parallel P] [--hold S] [--wait-go]
               opens N logged-in sessions, prints a JSON line, holds them until
               stdin gives a line or closes (at most S seconds); with --wait-go
               it first prints a "started" line and waits for a line on stdin
  tcp-ceiling  --bytes N                           loopback TCP stream in this process
  tls-ceiling  --bytes N --cert C --key K [--to-file F]
               loopback TLS 1.3 AES-128-GCM stream (written into F, then F removed)
  handshake-ceiling --count N --cert C --key K [--tls12]
               resumed TLS handshakes carrying 4 KiB each over loopback
server options: --host 127.0.0.1 --port N --user U --pass P
                --tls (AUTH TLS) --prot P|C (default P with --tls) --tls12 (at most TLS 1.2)
                --pasv --copy --timeout S
)";

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string w = argv[1];
  try {
    ftpbench::Args a(argc, argv, 2);
    if (w == "get") return ftpbench::run_get(a);
    if (w == "put") return ftpbench::run_put(a);
    if (w == "small-get") return ftpbench::run_small_get(a);
    if (w == "small-put") return ftpbench::run_small_put(a);
    if (w == "list") return ftpbench::run_list(a);
    if (w == "concurrent") return ftpbench::run_concurrent(a);
    if (w == "login") return ftpbench::run_login(a);
    if (w == "idle") return ftpbench::run_idle(a);
    if (w == "tcp-ceiling") return ftpbench::run_tcp_ceiling(a);
    if (w == "tls-ceiling") return ftpbench::run_tls_ceiling(a);
    if (w == "handshake-ceiling") return ftpbench::run_handshake_ceiling(a);
    std::fprintf(stderr, "unknown workload %s\n%s", w.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (char& c : msg) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    std::printf("{\"ok\": false, \"workload\": \"%s\", \"error\": \"%s\"}\n", w.c_str(), msg.c_str());
    return 1;
  }
}
