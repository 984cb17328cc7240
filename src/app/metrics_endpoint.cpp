#include "app/metrics_endpoint.hpp"

#include <fmt/format.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <deque>
#include <exception>
#include <iterator>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "config/loader.hpp"
#include "obs/metrics.hpp"

namespace ftpsd::app {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

double value_of(const std::atomic<std::uint64_t>& c) {
  return static_cast<double>(c.load(std::memory_order_relaxed));
}

class Families {
 public:
  MetricFamily& add(std::string name, std::string help, MetricType type) {
    families_.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
    return families_.back();
  }
  void counter(std::string name, std::string help, double v, Labels labels = {}) {
    auto& f = add(std::move(name), std::move(help), MetricType::Counter);
    sample(f, v, std::move(labels));
  }
  void gauge(std::string name, std::string help, double v, Labels labels = {}) {
    auto& f = add(std::move(name), std::move(help), MetricType::Gauge);
    sample(f, v, std::move(labels));
  }
  // One more sample (another label set) in family f.
  static void sample(MetricFamily& f, double v, Labels labels) {
    ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
      m.counter.value = v;
    } else {
      m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
  }
  std::vector<MetricFamily> take() {
    return {std::make_move_iterator(families_.begin()), std::make_move_iterator(families_.end())};
  }

 private:
  std::deque<MetricFamily> families_;  // add() hands out references that later add()s keep valid
};

class Collector final : public prometheus::Collectable {
 public:
  explicit Collector(const session::Services& services) : services_(services) {}

  [[nodiscard]] std::vector<MetricFamily> Collect() const override {
    const auto& m = obs::metrics();
    Families out;
    sessions(out, m);
    transfers(out, m);
    tls_and_data(out, m);
    ports_and_reloads(out, m);
    domains(out);
    return out.take();
  }

 private:
  // Sessions, logins, refusals and bans.
  void sessions(Families& out, const obs::Metrics& m) const {
    auto& sessions = out.add("ftpsd_sessions", "Sessions now, by the TLS state of their control connection",
                             MetricType::Gauge);
    Families::sample(sessions, static_cast<double>(m.sessions_tls.load(std::memory_order_relaxed)),
                     {{"tls", "yes"}});
    Families::sample(sessions, static_cast<double>(m.sessions_plain.load(std::memory_order_relaxed)),
                     {{"tls", "no"}});
    out.counter("ftpsd_sessions_total", "Sessions started", value_of(m.sessions_total));
    out.counter("ftpsd_sessions_refused_total", "Connections refused at server.max_sessions",
                value_of(m.sessions_refused));
    auto& logins = out.add("ftpsd_logins_total", "Logins by result", MetricType::Counter);
    Families::sample(logins, value_of(m.logins_ok), {{"result", "ok"}});
    Families::sample(logins, value_of(m.logins_failed), {{"result", "failed"}});

    auto& refused =
        out.add("ftpsd_connections_refused_total",
                "Connections or logins refused by a limit or a ban, by reason", MetricType::Counter);
    Families::sample(refused, value_of(m.refused_banned), {{"reason", "banned"}});
    Families::sample(refused, value_of(m.refused_per_ip), {{"reason", "max_sessions_per_ip"}});
    Families::sample(refused, value_of(m.refused_per_user), {{"reason", "max_sessions_per_user"}});
    out.counter("ftpsd_protocol_abuse_total",
                "Bounce attempts (PORT/EPRT to another host or a low port) and foreign data connections",
                value_of(m.protocol_abuse));
    out.counter("ftpsd_bans_total", "Client addresses banned ([bans])", value_of(m.bans_started));
    auto& banned = out.add("ftpsd_banned_addresses", "Client addresses banned now", MetricType::Gauge);
    Families::sample(banned,
                     static_cast<double>(services_.bans.banned_count(std::chrono::steady_clock::now())), {});
  }

  // File transfers: counts, bytes, durations.
  static void transfers(Families& out, const obs::Metrics& m) {
    auto& transfers = out.add("ftpsd_transfers_total",
                              "File transfers by direction (in: upload) and completion", MetricType::Counter);
    auto& bytes =
        out.add("ftpsd_transfer_bytes_total", "Bytes of file transfers by direction", MetricType::Counter);
    auto& durations = out.add("ftpsd_transfer_duration_seconds", "Duration of file transfers by direction",
                              MetricType::Histogram);
    for (const auto d : {obs::Direction::kIn, obs::Direction::kOut}) {
      const auto i = static_cast<std::size_t>(d);
      const std::string dir = d == obs::Direction::kIn ? "in" : "out";
      Families::sample(transfers, value_of(m.transfers_complete[i]),
                       {{"direction", dir}, {"status", "complete"}});
      Families::sample(transfers, value_of(m.transfers_incomplete[i]),
                       {{"direction", dir}, {"status", "incomplete"}});
      Families::sample(bytes, value_of(m.transfer_bytes[i]), {{"direction", dir}});
      ClientMetric h;
      h.label = {{"direction", dir}};
      std::uint64_t cumulative = 0;
      const auto& hist = m.transfer_seconds[i];
      for (std::size_t b = 0; b < obs::DurationHistogram::kBounds.size(); ++b) {
        cumulative += hist.bucket(b);
        h.histogram.bucket.push_back({cumulative, obs::DurationHistogram::kBounds[b]});
      }
      cumulative += hist.bucket(obs::DurationHistogram::kBounds.size());
      h.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
      h.histogram.sample_count = cumulative;
      h.histogram.sample_sum = hist.sum_seconds();
      durations.metric.push_back(std::move(h));
    }
  }

  // TLS handshakes and failed data connections.
  static void tls_and_data(Families& out, const obs::Metrics& m) {
    auto& handshakes =
        out.add("ftpsd_tls_handshakes_total",
                "TLS handshakes by connection (control, data) and result (full, resumed, failed)",
                MetricType::Counter);
    for (const auto c : {obs::Channel::kControl, obs::Channel::kData}) {
      const std::string ch = c == obs::Channel::kControl ? "control" : "data";
      const auto& row = m.handshakes[static_cast<std::size_t>(c)];
      Families::sample(handshakes, value_of(row[0]), {{"channel", ch}, {"result", "full"}});
      Families::sample(handshakes, value_of(row[1]), {{"channel", ch}, {"result", "resumed"}});
      Families::sample(handshakes, value_of(row[2]), {{"channel", ch}, {"result", "failed"}});
    }

    auto& failures = out.add("ftpsd_data_connection_failures_total", "Data connections that failed, by cause",
                             MetricType::Counter);
    constexpr std::pair<obs::DataFailure, const char*> kCauses[] = {
        {obs::DataFailure::kNoPassivePort, "no_passive_port"},
        {obs::DataFailure::kBindFailed, "bind_failed"},
        {obs::DataFailure::kTimeout, "timeout"},
        {obs::DataFailure::kConnectFailed, "connect_failed"},
        {obs::DataFailure::kTlsHandshake, "tls_handshake"},
        {obs::DataFailure::kTlsReuseRefused, "tls_reuse_refused"}};
    static_assert(std::size(kCauses) == static_cast<std::size_t>(obs::DataFailure::kCount));
    for (const auto& [f, name] : kCauses)
      Families::sample(failures, value_of(m.data_failures[static_cast<std::size_t>(f)]), {{"cause", name}});
    out.counter("ftpsd_tls_session_reuse_reported_total",
                "Protected data connections accepted without resuming the TLS session (session_reuse = "
                "report, or after CCC from the client's address)",
                value_of(m.tls_reuse_reported));
  }

  // The passive port pools (one per domain with its own range; the others share the default's),
  // active-mode connects, reloads.
  void ports_and_reloads(Families& out, const obs::Metrics& m) const {
    const auto snapshot = services_.snapshot();
    auto& ports = out.add("ftpsd_passive_ports",
                          "Passive port range by domain: size, in use, and free but waiting for TIME_WAIT "
                          "(cooling)",
                          MetricType::Gauge);
    auto& exhaustions =
        out.add("ftpsd_passive_port_exhaustions_total",
                "PASV/EPSV that found every passive port of the domain's range taken", MetricType::Counter);
    auto& early = out.add(
        "ftpsd_passive_port_early_reuses_total",
        "Passive ports handed to the same client again before its TIME_WAIT ended (nothing else free)",
        MetricType::Counter);
    for (const auto& d : snapshot.domains) {
      if (d != snapshot.default_domain() && d->ports == snapshot.default_domain()->ports) continue;
      const auto& pool = *d->ports;
      Families::sample(ports, static_cast<double>(pool.capacity()),
                       {{"domain", d->name}, {"state", "capacity"}});
      Families::sample(ports, static_cast<double>(pool.in_use()), {{"domain", d->name}, {"state", "in_use"}});
      Families::sample(ports, static_cast<double>(pool.cooling()),
                       {{"domain", d->name}, {"state", "cooling"}});
      Families::sample(exhaustions, static_cast<double>(pool.exhaustions()), {{"domain", d->name}});
      Families::sample(early, static_cast<double>(pool.early_reuses()), {{"domain", d->name}});
    }
    auto& active = out.add("ftpsd_active_connects_total",
                           "Active-mode (PORT/EPRT) data connections by result", MetricType::Counter);
    Families::sample(active, value_of(m.active_connects_ok), {{"result", "ok"}});
    Families::sample(active, value_of(m.active_connects_failed), {{"result", "failed"}});
    auto& reloads = out.add("ftpsd_reloads_total", "Configuration reloads by result", MetricType::Counter);
    Families::sample(reloads, value_of(m.reloads_ok), {{"result", "ok"}});
    Families::sample(reloads, value_of(m.reloads_failed), {{"result", "failed"}});
  }
  // Per domain (as many as the configuration has): its sessions now, its logins and its bytes.
  void domains(Families& out) const {
    auto& sessions = out.add("ftpsd_domain_sessions", "Sessions now, by domain", MetricType::Gauge);
    std::map<std::string, std::size_t> now;
    for (const auto& d : services_.snapshot().domains) now[d->name] = 0;
    for (const auto& v : services_.registry.list()) ++now[v.domain];
    for (const auto& [name, count] : now)
      Families::sample(sessions, static_cast<double>(count), {{"domain", name}});
    auto& logins = out.add("ftpsd_domain_logins_total", "Logins by domain and result", MetricType::Counter);
    auto& bytes = out.add("ftpsd_domain_transfer_bytes_total",
                          "Bytes of file transfers by domain and direction", MetricType::Counter);
    for (const auto& [name, state] : services_.domain_states()) {
      Families::sample(logins, static_cast<double>(state->logins_ok.load()),
                       {{"domain", name}, {"result", "ok"}});
      Families::sample(logins, static_cast<double>(state->logins_failed.load()),
                       {{"domain", name}, {"result", "failed"}});
      Families::sample(bytes, static_cast<double>(state->bytes_received.load()),
                       {{"direction", "in"}, {"domain", name}});
      Families::sample(bytes, static_cast<double>(state->bytes_sent.load()),
                       {{"direction", "out"}, {"domain", name}});
    }
  }
  const session::Services& services_;
};

}  // namespace

struct MetricsEndpoint::Impl {
  std::shared_ptr<Collector> collector;
  std::unique_ptr<prometheus::Exposer> exposer;
};

Result<std::unique_ptr<MetricsEndpoint>, std::string> MetricsEndpoint::start(
    const std::string& address, const session::Services& services) {
  auto hp = config::parse_listen_address(address);
  if (!hp) return Unexpected{fmt::format("metrics.address: {}", hp.error())};
  std::unique_ptr<MetricsEndpoint> ep(new MetricsEndpoint());
  ep->impl_ = std::make_unique<Impl>();
  ep->impl_->collector = std::make_shared<Collector>(services);
  try {
    ep->impl_->exposer = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return Unexpected{fmt::format("metrics.address: cannot listen on {}: {}", address, e.what())};
  }
  ep->impl_->exposer->RegisterCollectable(ep->impl_->collector, "/metrics");
  const auto bound = ep->impl_->exposer->GetListeningPorts();
  const bool v6 = hp->first.find(':') != std::string::npos;
  const int port = bound.empty() ? hp->second : bound.front();
  ep->url_ = v6 ? fmt::format("http://[{}]:{}/metrics", hp->first, port)
                : fmt::format("http://{}:{}/metrics", hp->first, port);
  return ep;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace ftpsd::app
