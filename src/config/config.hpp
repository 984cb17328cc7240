#pragma once
// The server's configuration as an immutable, validated value. Every key has a default here and an
// entry in the README; config/loader.cpp is the only place that reads TOML.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/duration.hpp"

namespace ftpsd::config {

enum class TlsMode : std::uint8_t { kNone, kExplicit, kImplicit };
enum class TlsRequired : std::uint8_t { kNone, kLogin, kAll };
enum class SessionReuse : std::uint8_t { kOff, kReport, kRequire };

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(last - first) + 1; }
  [[nodiscard]] bool contains(std::uint16_t p) const noexcept { return p >= first && p <= last; }
};

struct ServerConfig {
  std::size_t max_sessions = 10000;
  Duration idle_timeout = std::chrono::minutes(5);
  Duration login_timeout = std::chrono::minutes(1);  // from connect to a successful login
  Duration data_timeout = std::chrono::minutes(5);   // a stalled data connection (no byte moved)
  std::size_t threads = 0;                           // event-loop threads; 0: one per core
  std::size_t blocking_threads = 4;                  // file-system and password-hashing workers
  std::string banner = "ftpsd ready.";
};

struct ListenerConfig {
  std::string address;  // "ip:port" or "[ipv6]:port"
  std::string host;     // parsed from address
  std::uint16_t port = 0;
  TlsMode tls = TlsMode::kNone;
};

struct PassiveConfig {
  std::optional<PortRange> ports;  // none: any port the kernel gives
  std::string address;             // advertised in 227 replies; empty: the control connection's address
  Duration connect_timeout = std::chrono::seconds(30);
};

struct ActiveConfig {
  bool enabled = true;
  Duration connect_timeout = std::chrono::seconds(30);
};

struct UsersConfig {
  std::filesystem::path file;  // users file; empty: no local users
  bool anonymous = false;      // USER anonymous / ftp, read-only
  std::filesystem::path anonymous_root;
};

struct TlsConfig {
  std::filesystem::path certificate;  // PEM chain
  std::filesystem::path private_key;
  TlsRequired required = TlsRequired::kNone;
  SessionReuse session_reuse = SessionReuse::kRequire;
};

struct LogConfig {
  std::string level = "info";  // trace, debug, info, warn, error, off
};

struct Config {
  std::filesystem::path source;  // the file it came from, or "<embedded default>"
  ServerConfig server;
  std::vector<ListenerConfig> listeners;
  PassiveConfig passive;
  ActiveConfig active;
  UsersConfig users;
  TlsConfig tls;
  LogConfig log;
};

// The configuration `ftpsd run` uses without --config: loopback, unprivileged ports, the demo files
// that `make run` prepares under ./run.
[[nodiscard]] std::string_view embedded_default();

}  // namespace ftpsd::config
