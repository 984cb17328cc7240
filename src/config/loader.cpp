#include "config/loader.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "config/names.hpp"
#include "protocol/host_port.hpp"
#include "sys/syscalls.hpp"

namespace ftpsd::config {
namespace {

struct Failure {
  std::string message;
  std::string key;
};

// Reads one TOML table, remembering which keys were consumed so that the rest can be reported as
// unknown. Every error names the file, the line and the full key.
class TableReader {
 public:
  // `lines` collects where each key and table was written (Config::lines).
  TableReader(const toml::table& table, std::string prefix, const std::filesystem::path& file,
              SourceLines& lines)
      : table_(table), prefix_(std::move(prefix)), file_(file), lines_(lines) {}

  [[noreturn]] void fail(const toml::node* node, std::string_view key, std::string_view what) const {
    const auto line = node ? node->source().begin.line : table_.source().begin.line;
    throw Failure{fmt::format("{}:{}: key '{}': {}", file_.string(), line, full(key), what), full(key)};
  }
  // A check across tables, after reading: at the line of `full_key` (or of its table).
  [[noreturn]] void fail_at(std::string_view full_key, std::string_view what) const {
    throw Failure{fmt::format("{}:{}: key '{}': {}", file_.string(), lines_.of(full_key), full_key, what),
                  std::string(full_key)};
  }

  const toml::node* find(std::string_view key) {
    seen_.insert(std::string(key));
    const auto* n = table_.get(key);
    if (n != nullptr) lines_.lines.emplace(full(key), n->source().begin.line);
    return n;
  }

  void read(std::string_view key, std::string& out) {
    if (const auto* n = find(key)) {
      if (!n->is_string()) fail(n, key, "expected a string");
      out = n->as_string()->get();
    }
  }
  void read(std::string_view key, bool& out) {
    if (const auto* n = find(key)) {
      if (!n->is_boolean()) fail(n, key, "expected true or false");
      out = n->as_boolean()->get();
    }
  }
  void read(std::string_view key, std::size_t& out, std::size_t min, std::size_t max) {
    if (const auto* n = find(key)) {
      if (!n->is_integer()) fail(n, key, "expected an integer");
      const auto v = n->as_integer()->get();
      if (v < 0 || static_cast<std::size_t>(v) < min || static_cast<std::size_t>(v) > max)
        fail(n, key, fmt::format("must be between {} and {}", min, max));
      out = static_cast<std::size_t>(v);
    }
  }
  void read_duration(std::string_view key, Duration& out) {
    if (const auto* n = find(key)) {
      std::optional<Duration> d;
      if (n->is_string()) d = parse_duration(n->as_string()->get());
      if (n->is_integer() && n->as_integer()->get() >= 0) d = std::chrono::seconds(n->as_integer()->get());
      if (!d) fail(n, key, R"(expected a duration such as "30s", "5m" or "1h")");
      out = *d;
    }
  }
  void read_rate(std::string_view key, std::uint64_t& out) {
    if (const auto* n = find(key)) {
      std::optional<std::uint64_t> v;
      if (n->is_string()) v = parse_rate(n->as_string()->get());
      if (n->is_integer() && n->as_integer()->get() >= 0)
        v = static_cast<std::uint64_t>(n->as_integer()->get());
      if (!v) fail(n, key, R"(expected bytes per second such as "500k", "10M" or 0 (unlimited))");
      out = *v;
    }
  }
  void read_path(std::string_view key, std::filesystem::path& out, const std::filesystem::path& base) {
    std::string s;
    read(key, s);
    if (!s.empty()) out = base / s;
  }
  template <class E, std::size_t N>
  void read_enum(std::string_view key, E& out, const std::pair<std::string_view, E> (&names)[N]) {
    if (const auto* n = find(key)) {
      std::string allowed;
      for (const auto& [name, value] : names) {
        if (n->is_string() && n->as_string()->get() == name) {
          out = value;
          return;
        }
        allowed += fmt::format("{}\"{}\"", allowed.empty() ? "" : ", ", name);
      }
      fail(n, key, "expected one of " + allowed);
    }
  }
  const toml::table* sub_table(std::string_view key) {
    const auto* n = find(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) fail(n, key, "expected a table");
    return n->as_table();
  }
  const toml::array* array(std::string_view key) {
    const auto* n = find(key);
    if (n == nullptr) return nullptr;
    if (!n->is_array()) fail(n, key, "expected an array");
    return n->as_array();
  }
  // The optional table `key` ([server]): `read` takes the keys it knows, then any other key is an error.
  template <class Read>
  void read_table(std::string_view key, Read&& read) {
    if (const auto* t = sub_table(key)) {
      TableReader r(*t, full(key), file_, lines_);
      read(r);
      r.finish();
    }
  }
  // The optional array of tables `key` ([[listeners]]): the same for each of its tables, in order.
  template <class Read>
  void read_tables(std::string_view key, Read&& read) {
    const auto* a = array(key);
    if (a == nullptr) return;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto* t = (*a)[i].as_table();
      if (t == nullptr) fail(&(*a)[i], key, fmt::format("expected [[{}]] tables", full(key)));
      auto prefix = fmt::format("{}[{}]", full(key), i);
      lines_.lines.emplace(prefix, t->source().begin.line);
      TableReader r(*t, std::move(prefix), file_, lines_);
      read(r);
      r.finish();
    }
  }
  // Unknown keys are errors: a misspelt key must never be silently ignored.
  void finish() const {
    for (const auto& [k, v] : table_)
      if (!seen_.contains(std::string(k.str()))) fail(&v, k.str(), "unknown key");
  }
  [[nodiscard]] std::string full(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  const std::filesystem::path& file_;
  SourceLines& lines_;
  std::set<std::string, std::less<>> seen_;
};

constexpr std::pair<std::string_view, TlsVersion> kTlsVersions[] = {{"1.2", TlsVersion::k1_2},
                                                                    {"1.3", TlsVersion::k1_3}};
constexpr std::pair<std::string_view, ClientCertificates> kClientCertificates[] = {
    {"off", ClientCertificates::kOff},
    {"optional", ClientCertificates::kOptional},
    {"required", ClientCertificates::kRequired}};
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};

void read_server(TableReader& r, ServerConfig& s, const std::filesystem::path& base) {
  r.read("max_sessions", s.max_sessions, 1, 1'000'000);
  r.read("max_sessions_per_ip", s.max_sessions_per_ip, 0, 1'000'000);
  r.read("max_sessions_per_user", s.max_sessions_per_user, 0, 1'000'000);
  r.read_duration("idle_timeout", s.idle_timeout);
  r.read_duration("login_timeout", s.login_timeout);
  r.read_duration("data_timeout", s.data_timeout);
  r.read("threads", s.threads, 0, 256);
  r.read("blocking_threads", s.blocking_threads, 1, 256);
  r.read("banner", s.banner);
  r.read("user", s.user);
  r.read("group", s.group);
  if (!s.group.empty() && s.user.empty())
    r.fail(r.find("group"), "group", "server.group needs server.user (the account to drop to)");
  r.read_duration("shutdown_timeout", s.shutdown_timeout);
  r.read_path("pid_file", s.pid_file, base);
}

void read_listener(TableReader& r, ListenerConfig& l) {
  r.read("address", l.address);
  if (l.address.empty()) r.fail(nullptr, "address", "every [[listeners]] entry needs an address");
  auto hp = parse_listen_address(l.address);
  if (!hp) r.fail(r.find("address"), "address", hp.error());
  std::tie(l.host, l.port) = *hp;
  r.read_enum("tls", l.tls, kTlsModes);
  r.read("proxy_protocol", l.proxy_protocol);
  r.read("domain", l.domain);
}

constexpr std::pair<std::string_view, OnExhausted> kOnExhausted[] = {{"refuse", OnExhausted::kRefuse},
                                                                     {"wait", OnExhausted::kWait}};

std::vector<inet::IpNetwork> read_networks(TableReader& r, std::string_view key) {
  std::vector<inet::IpNetwork> out;
  const auto* a = r.array(key);
  if (a == nullptr) return out;
  for (const auto& n : *a) {
    const auto parsed = n.is_string() ? inet::IpNetwork::parse(n.as_string()->get()) : std::nullopt;
    if (!parsed)
      r.fail(&n, key, R"(expected networks such as "10.0.0.0/8" or "2001:db8::/32" (no host bits set))");
    out.push_back(*parsed);
  }
  return out;
}

void read_admin(TableReader& r, AdminConfig& a, const std::filesystem::path& base) {
  r.read("address", a.address);
  if (!a.address.empty()) {
    if (auto hp = parse_listen_address(a.address); !hp) r.fail(r.find("address"), "address", hp.error());
  }
  r.read("tls", a.tls);
  r.read_path("users_file", a.users_file, base);
  r.read_path("audit_file", a.audit_file, base);
  if (a.audit_file.empty() && !a.users_file.empty())
    a.audit_file = a.users_file.parent_path() / "audit.jsonl";
  if (const auto* allow = r.find("allow")) {
    a.allow = read_networks(r, "allow");
    if (a.allow.empty())
      r.fail(allow, "allow", "an empty list lets nobody in: name the networks that may use the Manager");
  }
  r.read("rate_limit", a.rate_limit, 0, 1'000'000);
  r.read("rate_burst", a.rate_burst, 1, 1'000'000);
  if (a.enabled() && a.users_file.empty())
    r.fail(r.find("address"), "users_file",
           "the Manager needs an admins file (`ftpsd admin add` writes one)");
}

// A password in a libpq connection string: the keyword form (password=...) or user:password@ in a URI.
bool has_password(std::string_view conninfo) {
  if (conninfo.find("password") != std::string_view::npos) return true;
  const auto scheme = conninfo.find("://");
  if (scheme == std::string_view::npos) return false;
  const auto authority = conninfo.substr(scheme + 3);
  const auto at = authority.find('@');
  return at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos;
}

void read_cluster(TableReader& r, ClusterConfig& c, const std::filesystem::path& base) {
  r.read("database", c.database);
  if (c.database.empty())
    r.fail(r.find("database"), "database",
           R"(the database's libpq connection string is needed, such as "postgresql://ftpsd@db/ftpsd")");
  // SECURITY: a password in the configuration would be readable by whoever may read the file; the
  // libpq keyword or URI form of it is refused (password_file or PGPASSFILE instead).
  if (has_password(c.database))
    r.fail(r.find("database"), "database",
           "no password in the connection string: put it in cluster.password_file (or PGPASSFILE)");
  r.read_path("password_file", c.password_file, base);
  r.read("node", c.node);
  if (c.node.empty()) c.node = sys::host_name();
  r.read("address", c.address);
  if (!c.address.empty()) {
    std::error_code ec;
    const auto ip = asio::ip::make_address(c.address, ec);
    if (ec)
      r.fail(r.find("address"), "address",
             R"(expected the IP address the load balancer reaches this node at, such as "10.0.1.11")");
    c.address = inet::unmap(ip).to_string();
  }
  r.read_duration("cache_ttl", c.cache_ttl);
}

// Leaves `out` as it is when `key` is not written (a domain keeps what it inherited).
void read_range(TableReader& r, std::string_view key, std::optional<PortRange>& out) {
  if (r.find(key) == nullptr) return;
  std::string text;
  r.read(key, text);
  auto range = parse_port_range(text);
  if (!range) r.fail(r.find(key), key, range.error());
  out = *range;
}

// A host name as RFC 1123 allows it: letters, digits, '-' and '.', labels of at most 63 bytes.
bool is_host_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  std::size_t label = 0;
  for (const char ch : s) {
    if (ch == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
    if (++label > 63) return false;
  }
  return true;
}

void read_overrides(TableReader& r, PassiveConfig& p) {
  if (r.array("address_overrides") != nullptr) p.address_overrides.clear();  // written: replaces
  r.read_tables("address_overrides", [&](TableReader& o) {
    AddressOverride entry;
    entry.networks = read_networks(o, "networks");
    if (entry.networks.empty()) o.fail(nullptr, "networks", "every address override needs networks");
    o.read("address", entry.address);
    if (entry.address != "local" &&
        (protocol::canonical_address(entry.address).empty() || entry.address.find(':') != std::string::npos))
      o.fail(o.find("address"), "address", "expected an IPv4 address or \"local\"");
    p.address_overrides.push_back(std::move(entry));
  });
}

void read_passive(TableReader& r, PassiveConfig& p) {
  read_range(r, "ports", p.ports);
  read_range(r, "advertised_ports", p.advertised_ports);
  if (p.advertised_ports && (!p.ports || p.ports->size() != p.advertised_ports->size()))
    r.fail(r.find("advertised_ports"), "advertised_ports",
           "needs passive.ports, and as many ports as it (port N of one is port N of the other)");
  r.read("address", p.address);
  if (!p.address.empty()) {
    const auto canonical = protocol::canonical_address(p.address);
    if (canonical.empty() ? !is_host_name(p.address) : p.address.find(':') != std::string::npos)
      r.fail(r.find("address"), "address",
             "expected an IPv4 address or a host name (a 227 reply carries IPv4)");
  }
  r.read_duration("resolve_every", p.resolve_every);
  if (p.resolve_every < std::chrono::seconds(1))
    r.fail(r.find("resolve_every"), "resolve_every", "must be at least 1s");
  read_overrides(r, p);
  r.read_duration("connect_timeout", p.connect_timeout);
  r.read_enum("on_exhausted", p.on_exhausted, kOnExhausted);
  r.read_duration("exhausted_wait", p.exhausted_wait);
  r.read("require_same_peer", p.require_same_peer);
}

void read_bans(TableReader& r, BansConfig& b) {
  r.read("max_failures", b.max_failures, 0, 1'000'000);
  r.read_duration("window", b.window);
  r.read_duration("duration", b.duration);
  r.read_duration("login_delay", b.login_delay);
  r.read_duration("max_login_delay", b.max_login_delay);
  b.exempt = read_networks(r, "exempt");
  r.read("max_entries", b.max_entries, 1, 100'000'000);
  if (b.max_failures > 0 && b.window.count() <= 0)
    r.fail(r.find("window"), "window", "must be longer than 0 when max_failures is set");
  if (b.max_failures > 0 && b.duration.count() <= 0)
    r.fail(r.find("duration"), "duration",
           "must be longer than 0 when max_failures is set (or set max_failures = 0)");
  if (b.max_login_delay < b.login_delay)
    r.fail(r.find("max_login_delay"), "max_login_delay", "must not be shorter than bans.login_delay");
}

void read_log(TableReader& r, LogConfig& l, const std::filesystem::path& base) {
  r.read("level", l.level);
  if (std::find(std::begin(kLogLevels), std::end(kLogLevels), l.level) == std::end(kLogLevels))
    r.fail(r.find("level"), "level", "expected one of trace, debug, info, warn, error, off");
  r.read_enum("format", l.format, kLogFormats);
  r.read("file", l.file);
  if (!l.file.empty() && l.file != "syslog") l.file = (base / l.file).string();
  r.read_path("xferlog", l.xferlog, base);
}

void read_active(TableReader& r, ActiveConfig& a) {
  r.read("enabled", a.enabled);
  r.read_duration("connect_timeout", a.connect_timeout);
  std::size_t source_port = 0;
  r.read("source_port", source_port, 0, 65535);
  a.source_port = static_cast<std::uint16_t>(source_port);
}

void read_users(TableReader& r, UsersConfig& u, const std::filesystem::path& base) {
  r.read_path("file", u.file, base);
  r.read("anonymous", u.anonymous);
  r.read_path("anonymous_root", u.anonymous_root, base);
  if (u.anonymous && u.anonymous_root.empty())
    r.fail(r.find("anonymous"), "anonymous", "anonymous = true needs users.anonymous_root");
}

void read_tls(TableReader& r, TlsConfig& t, const std::filesystem::path& base) {
  r.read_path("certificate", t.certificate, base);
  r.read_path("private_key", t.private_key, base);
  r.read_enum("required", t.required, kTlsRequired);
  r.read_enum("session_reuse", t.session_reuse, kSessionReuse);
  r.read_enum("min_version", t.min_version, kTlsVersions);
  r.read("ciphers", t.ciphers);
  r.read("ciphersuites", t.ciphersuites);
  r.read("groups", t.groups);
  r.read("allow_ccc", t.allow_ccc);
  r.read_duration("handshake_timeout", t.handshake_timeout);
  r.read_duration("session_lifetime", t.session_lifetime);
  r.read_duration("reload_check", t.reload_check);
  if (r.array("session_reuse_overrides") != nullptr) t.session_reuse_overrides.clear();  // written: replaces
  r.read_tables("session_reuse_overrides", [&](TableReader& o) {
    SessionReuseOverride entry;
    entry.networks = read_networks(o, "networks");
    if (entry.networks.empty()) o.fail(nullptr, "networks", "every override needs networks");
    if (o.find("session_reuse") == nullptr)
      o.fail(nullptr, "session_reuse", "every override needs session_reuse");
    o.read_enum("session_reuse", entry.session_reuse, kSessionReuse);
    t.session_reuse_overrides.push_back(std::move(entry));
  });
  r.read_enum("client_certificates", t.client_certificates, kClientCertificates);
  r.read_path("client_ca", t.client_ca, base);
  r.read("certificate_login", t.certificate_login);
  if (t.client_certificates != ClientCertificates::kOff && t.client_ca.empty())
    r.fail(r.find("client_certificates"), "client_certificates", "client certificates need tls.client_ca");
  // A domain's own certificate does not come with the default's extra pairs; written ones replace them.
  if (r.find("certificate") != nullptr || r.array("certificates") != nullptr) t.certificates.clear();
  r.read_tables("certificates", [&](TableReader& cr) {
    CertificatePair pair;
    cr.read_path("certificate", pair.certificate, base);
    cr.read_path("private_key", pair.private_key, base);
    if (pair.certificate.empty() || pair.private_key.empty())
      cr.fail(nullptr, "certificate", "each [[tls.certificates]] needs certificate and private_key");
    if (const auto* hosts = cr.array("hosts")) {
      for (const auto& h : *hosts) {
        if (!h.is_string()) cr.fail(&h, "hosts", "expected host names");
        pair.hosts.push_back(h.as_string()->get());
      }
    }
    t.certificates.push_back(std::move(pair));
  });
  if (t.certificate.empty() != t.private_key.empty())
    r.fail(r.find(t.certificate.empty() ? "private_key" : "certificate"),
           t.certificate.empty() ? "certificate" : "private_key",
           "tls.certificate and tls.private_key go together");
}

void read_limits(TableReader& r, LimitsConfig& l) {
  r.read_rate("download_rate", l.download_rate);
  r.read_rate("upload_rate", l.upload_rate);
}

// A domain's or listener's name: letters, digits, '-' and '_' (it appears in logs, metrics and the API).
bool is_domain_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_';
  });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

// One [[domains]] table over a copy of the top level's settings: what it writes replaces what it
// inherited.
void read_domain(TableReader& r, DomainConfig& d, const std::filesystem::path& base) {
  r.read("name", d.name);
  if (d.name.empty()) r.fail(nullptr, "name", "every [[domains]] entry needs a name");
  if (!is_domain_name(d.name))
    r.fail(r.find("name"), "name", "expected letters, digits, '-' and '_' (at most 64)");
  if (d.name == "default")
    r.fail(r.find("name"), "name", "\"default\" is the top-level settings' domain; choose another name");
  if (const auto* hosts = r.array("hosts")) {
    for (const auto& h : *hosts) {
      if (!h.is_string() || !is_host_name(h.as_string()->get()))
        r.fail(&h, "hosts", "expected host names such as \"ftp.example.com\"");
      d.hosts.push_back(lower(h.as_string()->get()));
    }
  }
  if (const auto* u = r.find("users")) {
    d.users = UsersConfig{};  // never the default's accounts (nor its anonymous root) unless written
    if (u->is_string()) {
      r.read_path("users", d.users.file, base);
    } else if (u->is_table()) {
      r.read_table("users", [&](TableReader& t) { read_users(t, d.users, base); });
    } else {
      r.fail(u, "users", "expected the users file's name, or a table with the keys of [users]");
    }
  }
  r.read("banner", d.banner);
  r.read_table("passive", [&](TableReader& p) {
    d.own_ports = p.find("ports") != nullptr;
    if (d.own_ports) d.passive.advertised_ports.reset();  // they were the default's range's
    read_passive(p, d.passive);
  });
  r.read_table("tls", [&](TableReader& t) {
    const bool certificate = t.find("certificate") != nullptr;
    if (certificate != (t.find("private_key") != nullptr))
      t.fail(nullptr, certificate ? "private_key" : "certificate",
             "a domain's certificate and private_key go together");
    d.own_certificate = certificate;
    read_tls(t, d.tls, base);
  });
  r.read_table("limits", [&](TableReader& l) { read_limits(l, d.limits); });
}

// The addresses a domain may be reached on: those of the listeners tied to it, and those of every
// listener tied to none (where HOST, SNI or user@host choose among all domains).
std::vector<std::string> served_addresses(const Config& c, std::string_view domain) {
  std::vector<std::string> out;
  for (const auto& l : c.listeners) {
    const std::string_view tied = l.domain.empty() ? std::string_view{} : std::string_view(l.domain);
    if (tied.empty() || tied == domain) out.push_back(l.host);
  }
  return out;
}

bool share_an_address(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  auto any = [](const std::string& h) { return h == "0.0.0.0" || h == "::"; };
  for (const auto& x : a)
    for (const auto& y : b)
      if (x == y || any(x) || any(y)) return true;
  return false;
}

// The default (index 0) and the [[domains]], with the key paths of their settings.
struct AllDomains {
  explicit AllDomains(const Config& c) : list{c.default_domain()} {
    list.insert(list.end(), c.domains.begin(), c.domains.end());
  }
  [[nodiscard]] static std::string key(std::size_t i, std::string_view key) {
    return i == 0 ? std::string(key) : fmt::format("domains[{}].{}", i - 1, key);
  }
  std::vector<DomainConfig> list;
};

void check_names_and_hosts(TableReader& top, const Config& c, const AllDomains& all) {
  const auto& d = all.list;
  for (std::size_t i = 1; i < d.size(); ++i) {
    for (std::size_t j = 1; j < i; ++j) {
      if (d[i].name == d[j].name)
        top.fail_at(AllDomains::key(i, "name"),
                    fmt::format("the name '{}' is already the name of {} (line {})", d[i].name,
                                AllDomains::key(j, "name"), c.lines.of(AllDomains::key(j, "name"))));
      for (const auto& host : d[i].hosts) {
        if (std::find(d[j].hosts.begin(), d[j].hosts.end(), host) != d[j].hosts.end())
          top.fail_at(
              AllDomains::key(i, "hosts"),
              fmt::format("the host '{}' already belongs to domain '{}' ({}, line {})", host, d[j].name,
                          AllDomains::key(j, "hosts"), c.lines.of(AllDomains::key(j, "hosts"))));
      }
    }
  }
}

void check_listener_domains(TableReader& top, const Config& c, const AllDomains& all) {
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    const auto& l = c.listeners[i];
    if (l.domain.empty()) continue;
    const auto it = std::find_if(all.list.begin(), all.list.end(),
                                 [&](const DomainConfig& d) { return d.name == l.domain; });
    if (it == all.list.end()) {
      std::string known;
      for (const auto& d : all.list) known += (known.empty() ? "" : ", ") + d.name;
      top.fail_at(fmt::format("listeners[{}].domain", i),
                  fmt::format("no domain is named '{}' (the domains: {})", l.domain, known));
    }
    if (l.tls != TlsMode::kNone && !it->tls.configured())
      top.fail_at(fmt::format("listeners[{}].tls", i),
                  fmt::format("a TLS listener needs a certificate for domain '{}'", l.domain));
  }
}

// Two pools bound on one server address must not share a port.
void check_port_overlaps(TableReader& top, const Config& c, const AllDomains& all) {
  const auto& d = all.list;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!d[i].own_ports || !d[i].passive.ports) continue;
    const auto& mine = *d[i].passive.ports;
    for (std::size_t j = 0; j < i; ++j) {
      if (!d[j].own_ports || !d[j].passive.ports) continue;
      const auto& theirs = *d[j].passive.ports;
      if (mine.last < theirs.first || theirs.last < mine.first) continue;
      if (!share_an_address(served_addresses(c, d[i].name), served_addresses(c, d[j].name))) continue;
      top.fail_at(
          AllDomains::key(i, "passive.ports"),
          fmt::format("the range {}-{} overlaps {}-{} of domain '{}' ({}, line {}) on the same server "
                      "address; give each domain its own ports (a domain without passive.ports "
                      "shares the default's)",
                      mine.first, mine.last, theirs.first, theirs.last, d[j].name,
                      AllDomains::key(j, "passive.ports"), c.lines.of(AllDomains::key(j, "passive.ports"))));
    }
  }
}

void check_domain_tls(TableReader& top, const Config& c, const AllDomains& all) {
  const bool shared_listener = std::any_of(c.listeners.begin(), c.listeners.end(),
                                           [](const ListenerConfig& l) { return l.domain.empty(); });
  for (std::size_t i = 1; i < all.list.size(); ++i) {
    const auto& d = all.list[i];
    if (d.own_certificate && shared_listener && !c.tls.configured())
      top.fail_at(
          AllDomains::key(i, "tls.certificate"),
          "on listeners shared by all domains, SNI chooses among the certificates of the default's TLS "
          "context: set tls.certificate and tls.private_key at the top level too");
    if (d.tls.required != TlsRequired::kNone && !d.tls.configured())
      top.fail_at(AllDomains::key(i, "tls.required"), "requiring TLS needs a certificate and private_key");
  }
}

// Names and hosts are unique, listeners name known domains, no two port pools that can be bound on one
// server address overlap, and certificates are where TLS needs them.
void check_domains(TableReader& top, const Config& c) {
  const AllDomains all(c);
  check_names_and_hosts(top, c, all);
  check_listener_domains(top, c, all);
  check_port_overlaps(top, c, all);
  check_domain_tls(top, c, all);
}

// The rules between sections: what one setting needs of another.
void check_together(TableReader& top, const Config& c) {
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    if (c.listeners[i].proxy_protocol && c.proxy_protocol.trusted.empty())
      top.fail_at(fmt::format("listeners[{}].proxy_protocol", i),
                  "proxy_protocol = true needs the proxies' networks in [proxy_protocol] trusted");
  }
  for (std::size_t i = 0; i < c.listeners.size(); ++i) {
    const auto& domain = c.listeners[i].domain;
    if (!domain.empty() && domain != "default") continue;  // check_domains
    if (c.listeners[i].tls != TlsMode::kNone && !c.tls.configured())
      top.fail_at(
          fmt::format("listeners[{}].tls", i),
          "a TLS listener needs tls.certificate and tls.private_key (`ftpsd cert self-signed` makes a pair)");
  }
  if (c.tls.required != TlsRequired::kNone && !c.tls.configured())
    top.fail_at("tls.required", "requiring TLS needs tls.certificate and tls.private_key");
  if (c.admin.enabled() && c.admin.tls && !c.tls.configured())
    top.fail_at("admin.tls",
                "the Manager serves HTTPS with tls.certificate and tls.private_key: configure them, or set "
                "admin.tls = false (plain HTTP, for loopback only)");
}

Config build(const toml::table& root, const std::filesystem::path& file, const std::filesystem::path& base) {
  Config c;
  c.source = file;
  TableReader top(root, "", file, c.lines);
  top.read_table("server", [&](TableReader& r) { read_server(r, c.server, base); });
  top.read_tables("listeners", [&](TableReader& r) {
    ListenerConfig l;
    read_listener(r, l);
    c.listeners.push_back(std::move(l));
  });
  if (c.listeners.empty()) top.fail(nullptr, "listeners", "at least one [[listeners]] entry is needed");
  top.read_table("passive", [&](TableReader& r) { read_passive(r, c.passive); });
  top.read_table("active", [&](TableReader& r) { read_active(r, c.active); });
  top.read_table("proxy_protocol",
                 [&](TableReader& r) { c.proxy_protocol.trusted = read_networks(r, "trusted"); });
  top.read_table("users", [&](TableReader& r) { read_users(r, c.users, base); });
  top.read_table("tls", [&](TableReader& r) { read_tls(r, c.tls, base); });
  top.read_table("storage", [&](TableReader& r) {
    r.read("fsync", c.storage.fsync);
    r.read("atomic_uploads", c.storage.atomic_uploads);
  });
  top.read_table("metrics", [&](TableReader& r) {
    r.read("address", c.metrics.address);
    if (!c.metrics.address.empty()) {
      if (auto a = parse_listen_address(c.metrics.address); !a)
        r.fail(r.find("address"), "address", a.error());
    }
  });
  top.read_table("admin", [&](TableReader& r) { read_admin(r, c.admin, base); });
  top.read_table("bans", [&](TableReader& r) { read_bans(r, c.bans); });
  top.read_table("limits", [&](TableReader& r) { read_limits(r, c.limits); });
  top.read_table("log", [&](TableReader& r) { read_log(r, c.log, base); });
  top.read_table("cluster", [&](TableReader& r) { read_cluster(r, c.cluster.emplace(), base); });
  // Last: a domain starts from the top level's settings, wherever they are written in the file.
  top.read_tables("domains", [&](TableReader& r) {
    DomainConfig d = c.default_domain();
    d.name.clear();
    d.own_ports = false;
    d.own_certificate = false;
    read_domain(r, d, base);
    c.domains.push_back(std::move(d));
  });
  top.finish();
  check_together(top, c);
  check_domains(top, c);
  return c;
}

}  // namespace

std::vector<inet::IpNetwork> AdminConfig::default_admin_allow() {
  std::vector<inet::IpNetwork> loopback;
  for (const auto* text : {"127.0.0.0/8", "::1/128"}) {
    if (auto n = inet::IpNetwork::parse(text)) loopback.push_back(*n);
  }
  return loopback;
}

DomainConfig Config::default_domain() const {
  return DomainConfig{.name = "default",
                      .hosts = {},
                      .banner = server.banner,
                      .users = users,
                      .passive = passive,
                      .tls = tls,
                      .limits = limits,
                      .own_ports = passive.ports.has_value(),
                      .own_certificate = tls.configured()};
}

TlsConfig Config::served_tls() const {
  TlsConfig served = tls;
  for (const auto& d : domains) {
    if (!d.own_certificate || d.hosts.empty()) continue;
    served.certificates.push_back(CertificatePair{
        .certificate = d.tls.certificate, .private_key = d.tls.private_key, .hosts = d.hosts});
    for (const auto& pair : d.tls.certificates)
      served.certificates.push_back(CertificatePair{.certificate = pair.certificate,
                                                    .private_key = pair.private_key,
                                                    .hosts = pair.hosts.empty() ? d.hosts : pair.hosts});
  }
  return served;
}

Config Config::for_domain(const DomainConfig& domain) const {
  Config c;
  c.source = source;
  c.lines = lines;
  c.server = server;
  c.server.banner = domain.banner;
  c.listeners = listeners;
  c.passive = domain.passive;
  c.active = active;
  c.proxy_protocol = proxy_protocol;
  c.users = domain.users;
  c.tls = domain.tls;
  c.storage = storage;
  c.bans = bans;
  c.limits = domain.limits;
  c.log = log;
  c.metrics = metrics;
  return c;
}

std::uint32_t SourceLines::of(std::string_view key) const {
  for (;;) {
    if (auto it = lines.find(key); it != lines.end()) return it->second;
    // Up one level: "a[0].b" -> "a[0]" -> "a".
    const auto cut = key.find_last_of(".[");
    if (cut == std::string_view::npos || cut == 0) return 0;
    key = key.substr(0, cut);
  }
}

Result<std::optional<PortRange>, std::string> parse_port_range(std::string_view text) {
  if (text.empty()) return std::optional<PortRange>{};
  auto num = [](std::string_view s, unsigned& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc{} && p == s.data() + s.size() && v >= 1 && v <= 65535;
  };
  const auto dash = text.find('-');
  unsigned a = 0;
  unsigned b = 0;
  if (!num(text.substr(0, dash), a) ||
      !num(dash == std::string_view::npos ? text.substr(0) : text.substr(dash + 1), b))
    return Unexpected{std::string("expected a port range such as \"50000-50099\" (ports 1 to 65535)")};
  if (a > b) return Unexpected{fmt::format("the range {}-{} is inverted (first port above last)", a, b)};
  return std::optional<PortRange>{PortRange{static_cast<std::uint16_t>(a), static_cast<std::uint16_t>(b)}};
}

std::optional<std::uint64_t> parse_rate(std::string_view text) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p == text.data()) return std::nullopt;
  const std::string_view unit = text.substr(static_cast<std::size_t>(p - text.data()));
  std::uint64_t mult = 1;
  if (unit == "k" || unit == "K") {
    mult = 1024;
  } else if (unit == "m" || unit == "M") {
    mult = 1024 * 1024;
  } else if (unit == "g" || unit == "G") {
    mult = 1024ULL * 1024 * 1024;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  if (v > (std::uint64_t{1} << 50) / mult) return std::nullopt;
  return v * mult;
}

Result<std::pair<std::string, std::uint16_t>, std::string> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return Unexpected{std::string("expected \"[ipv6]:port\"")};
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Unexpected{std::string("expected \"address:port\"")};
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  const auto canonical = protocol::canonical_address(host);
  if (canonical.empty()) return Unexpected{fmt::format("'{}' is not an IP address", host)};
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || ptr != port.data() + port.size() || p > 65535)
    return Unexpected{fmt::format("'{}' is not a port number (0 to 65535)", port)};
  return std::pair{std::string(host), static_cast<std::uint16_t>(p)};
}

Result<Config, ConfigError> load_string(std::string_view text, const std::filesystem::path& name,
                                        const std::filesystem::path& base_dir) {
  try {
    const toml::table root = toml::parse(text, name.string());
    return build(root, name, base_dir);
  } catch (const toml::parse_error& e) {
    return Unexpected{
        ConfigError{fmt::format("{}:{}: {}", name.string(), e.source().begin.line, e.description())}};
  } catch (const Failure& f) {
    return Unexpected{ConfigError{f.message, f.key}};
  }
}

Result<Config, ConfigError> load_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return Unexpected{ConfigError{fmt::format("{}: cannot read the configuration file", file.string())}};
  std::stringstream ss;
  ss << in.rdbuf();
  return load_string(ss.str(), file, file.parent_path());
}

Result<Config, ConfigError> load_embedded_default() {
  return load_string(embedded_default(), kEmbeddedDefaultName, kEmbeddedDefaultBase);
}

Result<Config, ConfigError> load_file_or_default(const std::filesystem::path& file) {
  return file.empty() ? load_embedded_default() : load_file(file);
}

}  // namespace ftpsd::config
