#pragma once
// The server's configuration as an immutable, validated value. Every key has a default here and an
// entry in the README; config/loader.cpp is the only place that reads TOML.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inet/ip_network.hpp"
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
  std::size_t max_sessions_per_ip = 0;    // sessions from one client address; 0: no limit
  std::size_t max_sessions_per_user = 0;  // sessions of one user; 0: no limit (users file: max_sessions)
  Duration idle_timeout = std::chrono::minutes(5);
  Duration login_timeout = std::chrono::minutes(1);  // from connect to a successful login
  Duration data_timeout = std::chrono::minutes(5);   // a stalled data connection (no byte moved)
  std::size_t threads = 0;                           // event-loop threads; 0: one per core
  std::size_t blocking_threads = 4;                  // file-system and password-hashing workers
  std::string banner = "ftpsd ready.";
  // Started as root: the account to run as once the ports are bound and the keys read (README
  // "Security"). Empty: stay who we are (root gets a loud warning). Read at start only.
  std::string user;
  std::string group;                                     // empty: the user's primary group
  Duration shutdown_timeout = std::chrono::seconds(30);  // SIGTERM: how long running transfers may go on
  std::filesystem::path pid_file;                        // written at start, removed at exit; empty: none
};

struct ListenerConfig {
  std::string address;  // "ip:port" or "[ipv6]:port"
  std::string host;     // parsed from address
  std::uint16_t port = 0;
  TlsMode tls = TlsMode::kNone;
  bool proxy_protocol = false;  // a PROXY protocol v1/v2 header precedes the client's bytes
  std::string domain;           // every connection belongs to this domain; empty: chosen per session
};

enum class OnExhausted : std::uint8_t { kRefuse, kWait };

// [[passive.address_overrides]]: clients in `networks` get `address` in 227 replies.
struct AddressOverride {
  std::vector<inet::IpNetwork> networks;
  std::string address;  // an IP address, or "local": the control connection's local address
};

struct PassiveConfig {
  std::optional<PortRange> ports;                    // none: any port the kernel gives
  std::optional<PortRange> advertised_ports;         // the router's external ports for `ports`, same size
  std::string address;                               // an IP or a host name; empty: the control connection's
  Duration resolve_every = std::chrono::minutes(5);  // how often a host name is looked up again
  std::vector<AddressOverride> address_overrides;    // the first match by client address wins
  Duration connect_timeout = std::chrono::seconds(30);
  OnExhausted on_exhausted = OnExhausted::kRefuse;
  Duration exhausted_wait = std::chrono::seconds(10);  // on_exhausted = "wait": the longest wait
  bool require_same_peer = true;  // SECURITY: data connections only from the control peer
};

struct ActiveConfig {
  bool enabled = true;
  Duration connect_timeout = std::chrono::seconds(30);
  std::uint16_t source_port = 0;  // 0: any; 20 for firewalls that expect RFC 959's L-1
};

// [proxy_protocol]: who may send a PROXY header to a listener with proxy_protocol = true.
struct ProxyProtocolConfig {
  std::vector<inet::IpNetwork> trusted;
};

struct UsersConfig {
  std::filesystem::path file;  // users file; empty: no local users
  bool anonymous = false;      // USER anonymous / ftp, read-only
  std::filesystem::path anonymous_root;
};

enum class TlsVersion : std::uint8_t { k1_2, k1_3 };

enum class ClientCertificates : std::uint8_t { kOff, kOptional, kRequired };

// [[tls.certificates]]: more certificate/key pairs. Without hosts, another key type for the default
// (RSA beside ECDSA: the client's offer picks); with hosts, the pair served to those SNI names.
struct CertificatePair {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  std::vector<std::string> hosts;
};

// [[tls.session_reuse_overrides]]: clients in `networks` get this session_reuse policy.
struct SessionReuseOverride {
  std::vector<inet::IpNetwork> networks;
  SessionReuse session_reuse = SessionReuse::kRequire;
};

struct TlsConfig {
  std::filesystem::path certificate;  // PEM chain
  std::filesystem::path private_key;
  std::vector<CertificatePair> certificates;
  TlsRequired required = TlsRequired::kNone;
  SessionReuse session_reuse = SessionReuse::kRequire;
  std::vector<SessionReuseOverride> session_reuse_overrides;  // first match by client address wins
  TlsVersion min_version = TlsVersion::k1_2;
  // TLS 1.2: forward secrecy and AEAD only (no RSA key exchange, no CBC). TLS 1.3: AES-128-GCM first.
  std::string ciphers =
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
  std::string ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  std::string groups = "X25519:P-256:P-384";
  bool allow_ccc = false;  // CCC (RFC 4217 §6): back to a clear control channel after login
  Duration handshake_timeout = std::chrono::seconds(30);
  Duration session_lifetime = std::chrono::hours(24);  // how long a data connection may resume
  Duration reload_check = std::chrono::seconds(10);  // certificate files are re-read when they change; 0: off
  ClientCertificates client_certificates = ClientCertificates::kOff;
  std::filesystem::path client_ca;  // PEM CAs that client certificates must chain to
  bool certificate_login = false;   // a verified client certificate of the user logs in without a password

  [[nodiscard]] bool configured() const noexcept { return !certificate.empty(); }
};

// [storage]: what a 226 for an upload promises (README "Durability").
struct StorageConfig {
  bool fsync = true;           // flush the file (and, with atomic uploads, its folder) before the 226
  bool atomic_uploads = true;  // STOR from offset 0 and STOU write a hidden temporary, renamed when complete
};
enum class LogFormat : std::uint8_t { kText, kJson };

// [bans]: failed logins and protocol abuse per client address; see net/bans.hpp.
struct BansConfig {
  std::size_t max_failures = 5;                        // within `window`, then a ban; 0: never ban
  Duration window = std::chrono::minutes(10);          // failures older than this are forgotten
  Duration duration = std::chrono::minutes(15);        // how long a ban lasts
  Duration login_delay = std::chrono::seconds(1);      // before the 530 of a failed login; 0: none
  Duration max_login_delay = std::chrono::seconds(8);  // the delay doubles per recent failure up to this
  std::vector<inet::IpNetwork> exempt;                 // never delayed, counted or banned
  std::size_t max_entries = 100000;                    // addresses tracked at most (memory bound)
};

// [limits]: bandwidth in bytes per second shared by all sessions; 0: unlimited. Users may have their
// own (users file download_rate/upload_rate, per session); the stricter applies.
struct LimitsConfig {
  std::uint64_t download_rate = 0;
  std::uint64_t upload_rate = 0;
};

struct LogConfig {
  std::string level = "info";           // trace, debug, info, warn, error, off
  LogFormat format = LogFormat::kText;  // json: one object per line
  std::string file;                     // empty: stderr; "syslog": syslog (daemon facility); else a path
  std::filesystem::path xferlog;        // transfer log in the wu-ftpd xferlog format; empty: none
};

struct MetricsConfig {
  std::string address;  // "ip:port" of the Prometheus endpoint (/metrics); empty: off
};

// [admin]: the Manager's REST API on a listener of its own (README "Manager (admin API)").
struct AdminConfig {
  std::string address;               // "ip:port"; empty: off
  bool tls = true;                   // HTTPS with the [tls] certificate; false: plain HTTP
  std::filesystem::path users_file;  // the admins file ([[admins]]); needed when address is set
  // Every change made through the Manager, a JSON object a line; default: audit.jsonl beside users_file.
  std::filesystem::path audit_file;
  // Networks that may connect at all; others are refused before any HTTP is read. Default: loopback.
  std::vector<inet::IpNetwork> allow = default_admin_allow();
  // Requests per second each client address may send on average (a token bucket), and how many at
  // once after a pause; beyond that, 429. rate_limit = 0: no limit.
  std::size_t rate_limit = 20;
  std::size_t rate_burst = 100;

  [[nodiscard]] bool enabled() const noexcept { return !address.empty(); }
  [[nodiscard]] static std::vector<inet::IpNetwork> default_admin_allow();
};

// [cluster]: users in PostgreSQL shared by several nodes (README "Running a cluster"). Absent: the
// files are the only source of truth and no database is used.
struct ClusterConfig {
  std::string database;                 // a libpq connection string or URI; never a password
  std::filesystem::path password_file;  // the database password, its first line; empty: libpq's own ways
  std::string node;                     // this node's name; default: the host name
  // The IP address the load balancer reaches this node at (`ftpsd firewall --cluster`); empty: not said.
  std::string address;
  // How long a login verified against the database may be repeated from this node's memory while
  // the database is unreachable.
  Duration cache_ttl = std::chrono::minutes(10);
};

// Where the keys and tables of a configuration were written: "passive.ports" -> 18, "listeners[0]" -> 7
// (the line of its [[listeners]] header). For messages about a key after loading (cross-field checks,
// the NAT lint), which must name the line as the loader's own errors do.
struct SourceLines {
  std::map<std::string, std::uint32_t, std::less<>> lines;
  // The line of `key`; for a key not written, the line of the nearest table it belongs to
  // ("listeners[0].proxy_protocol" -> "listeners[0]" -> "listeners"); 0: none of them is written.
  [[nodiscard]] std::uint32_t of(std::string_view key) const;
};

// [[domains]]: one FTP site among several on this server (README "Domains"). The top-level settings form
// the domain named "default"; a domain inherits every one of them it does not set itself, so each
// section here is complete after loading.
struct DomainConfig {
  std::string name;                // letters, digits, '-' and '_'; "default" is the top level
  std::vector<std::string> hosts;  // lower case; HOST, TLS SNI and user@host choose the domain by them
  std::string banner;              // the 220 greeting (and the reply to HOST)
  UsersConfig users;
  PassiveConfig passive;
  TlsConfig tls;
  LimitsConfig limits;
  // passive.ports written in this domain: its own port pool. Otherwise it shares the default's pool.
  bool own_ports = false;
  // tls.certificate written in this domain: its own certificate, also served to its hosts by SNI.
  bool own_certificate = false;
};

struct Config {
  std::filesystem::path source;  // the file it came from, or "<embedded default>"
  SourceLines lines;
  ServerConfig server;
  std::vector<ListenerConfig> listeners;
  PassiveConfig passive;
  ActiveConfig active;
  ProxyProtocolConfig proxy_protocol;
  UsersConfig users;
  TlsConfig tls;
  StorageConfig storage;
  BansConfig bans;
  LimitsConfig limits;
  LogConfig log;
  MetricsConfig metrics;
  AdminConfig admin;
  std::optional<ClusterConfig> cluster;  // nullopt: no [cluster] table
  std::vector<DomainConfig> domains;     // the [[domains]], in file order; "default" is not among them

  // The domain's view of this configuration: the top level with the domain's banner, users, passive,
  // tls and limits in place (the default's for "default"), and no domains of its own.
  [[nodiscard]] Config for_domain(const DomainConfig& domain) const;
  // The top-level settings as a domain named "default".
  [[nodiscard]] DomainConfig default_domain() const;
  // What listeners not tied to a domain hand out: the default's TLS settings, with every domain's own
  // certificate (and its extra pairs) as pairs for the domain's hosts, chosen by SNI or HOST.
  [[nodiscard]] TlsConfig served_tls() const;
};

// The configuration `ftpsd run` uses without --config: loopback, unprivileged ports, the demo files
// that `make run` prepares under ./run. Its relative paths are relative to kEmbeddedDefaultBase, so
// that the same text written to run/ftpsd.toml (`ftpsd config init`) means the same files.
[[nodiscard]] std::string_view embedded_default();
inline constexpr std::string_view kEmbeddedDefaultName = "<embedded default>";
inline constexpr std::string_view kEmbeddedDefaultBase = "run";

}  // namespace ftpsd::config
