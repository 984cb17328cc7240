#include <fmt/format.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <memory>
#include <set>

#include "admin/routes.hpp"
#include "obs/metrics.hpp"

namespace ftpsd::admin {
namespace {

json session_json(const session::SessionView& s) {
  json transfer = nullptr;
  if (s.transfer) {
    transfer = json{{"command", s.transfer->command},
                    {"path", s.transfer->path},
                    {"bytes", s.transfer->bytes},
                    {"total", s.transfer->total},
                    {"started", utc(s.transfer->started)}};
  }
  return json{{"id", s.id},
              {"user", s.user.empty() ? json(nullptr) : json(s.user)},
              {"client", s.client},
              {"domain", s.domain},
              {"listener", s.listener},
              {"tls", s.tls.empty() ? json(nullptr) : json(s.tls)},
              {"data_tls_reused", s.data_tls_reused ? json(*s.data_tls_reused) : json(nullptr)},
              {"transfer", transfer},
              {"idle_seconds", whole_seconds(s.idle)},
              {"started", utc(s.started)}};
}

template <std::size_t N>
std::uint64_t total(const std::array<obs::Counter, N>& counters) {
  std::uint64_t sum = 0;
  for (const auto& c : counters) sum += c.load(std::memory_order_relaxed);
  return sum;
}

std::uint64_t value(const obs::Counter& c) {
  return c.load(std::memory_order_relaxed);
}

json handshakes(const obs::Metrics& m, obs::Channel channel) {
  const auto& h = m.handshakes[static_cast<std::size_t>(channel)];
  return json{{"full", value(h[static_cast<std::size_t>(obs::Handshake::kFull)])},
              {"resumed", value(h[static_cast<std::size_t>(obs::Handshake::kResumed)])},
              {"failed", value(h[static_cast<std::size_t>(obs::Handshake::kFailed)])}};
}

// The expiry of each domain's certificate (the first of its PEM chain), read now: the file may have
// been renewed since the start. A file that cannot be read is left out.
json certificates(const session::Snapshot& snapshot) {
  json list = json::array();
  std::set<std::filesystem::path> seen;
  for (const auto& d : snapshot.domains) {
    const auto& file = d->config->tls.certificate;
    if (file.empty() || !seen.insert(file).second) continue;
    const std::unique_ptr<std::FILE, decltype(&std::fclose)> f(std::fopen(file.c_str(), "re"), &std::fclose);
    if (!f) continue;
    const std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr),
                                                           &X509_free);
    std::tm tm{};
    if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) continue;
    const auto not_after = std::chrono::system_clock::from_time_t(timegm(&tm));
    list.push_back(
        json{{"domain", d->name},
             {"file", file.string()},
             {"not_after", utc(not_after)},
             {"days_left",
              std::chrono::floor<std::chrono::days>(not_after - std::chrono::system_clock::now()).count()}});
  }
  return list;
}

void status(const Api& api, Response& res) {
  // One entry per port pool, as in the metrics: the default's, then each domain with passive.ports
  // of its own (the others share the default's pool).
  const auto snapshot = api.services->snapshot();
  json pools = json::array();
  for (const auto& d : snapshot.domains) {
    if (d != snapshot.default_domain() && d->ports == snapshot.default_domain()->ports) continue;
    const auto capacity = d->ports->capacity();
    const auto in_use = d->ports->in_use();
    const auto cooling = d->ports->cooling();
    pools.push_back(json{{"domain", d->name},
                         {"capacity", capacity},
                         {"in_use", in_use},
                         {"cooling", cooling},
                         {"free", capacity - std::min(capacity, in_use + cooling)}});
  }
  const auto sessions = api.services->registry.list();
  const auto running = std::count_if(sessions.begin(), sessions.end(),
                                     [](const session::SessionView& s) { return s.transfer.has_value(); });
  const auto& m = obs::metrics();
  const auto in = static_cast<std::size_t>(obs::Direction::kIn);
  const auto out = static_cast<std::size_t>(obs::Direction::kOut);
  send_json(
      res,
      json{
          {"version", FTPSD_VERSION},
          {"uptime_seconds", whole_seconds(std::chrono::steady_clock::now() - api.started)},
          {"sessions", sessions.size()},
          {"transfers", running},
          {"transfers_total",
           json{{"complete", total(m.transfers_complete)}, {"incomplete", total(m.transfers_incomplete)}}},
          {"bytes", json{{"received", value(m.transfer_bytes[in])}, {"sent", value(m.transfer_bytes[out])}}},
          {"logins", json{{"ok", value(m.logins_ok)}, {"failed", value(m.logins_failed)}}},
          {"bans", api.services->bans.banned_count(net::Bans::Clock::now())},
          {"passive_ports", pools},
          {"certificates", certificates(snapshot)},
          {"tls", json{{"control_handshakes", handshakes(m, obs::Channel::kControl)},
                       {"data_handshakes", handshakes(m, obs::Channel::kData)},
                       {"data_reuse_refused",
                        value(m.data_failures[static_cast<std::size_t>(obs::DataFailure::kTlsReuseRefused)])},
                       {"data_reuse_reported", value(m.tls_reuse_reported)}}},
          {"manager", json{{"failed_logins", api.failed_logins.load(std::memory_order_relaxed)}}}});
}

// Without [cluster]: this server's sessions. With it: every node's, each with its "node"; the other
// nodes' as their last heartbeat gave them (at most a second old). If the database cannot answer, this
// node's alone and "cluster_error" says why.
void sessions(const Api& api, Response& res) {
  json list = json::array();
  auto* registry = api.hooks.nodes;
  for (const auto& s : api.services->registry.list()) {
    list.push_back(session_json(s));
    if (registry) list.back()["node"] = registry->node();
  }
  json answer{{"sessions", nullptr}};
  if (registry) {
    auto all = registry->nodes();
    if (!all) {
      answer["cluster_error"] = fmt::format("the cluster database is unreachable: {}", all.error());
    } else {
      for (const auto& n : *all) {
        if (n.name == registry->node() || n.state != cluster::NodeState::kUp) continue;
        auto theirs = json::parse(n.sessions_json, nullptr, false);
        if (!theirs.is_array()) continue;
        for (auto& s : theirs) {
          s["node"] = n.name;
          list.push_back(std::move(s));
        }
      }
    }
  }
  answer["sessions"] = std::move(list);
  send_json(res, answer);
}

void nodes(const Api& api, Response& res) {
  auto* registry = api.hooks.nodes;
  if (!registry) {
    send_json(res, json{{"cluster", false}, {"nodes", json::array()}});
    return;
  }
  auto all = registry->nodes();
  if (!all) {
    send_error(res, 503, fmt::format("the cluster database is unreachable: {}", all.error()));
    return;
  }
  json list = json::array();
  for (const auto& n : *all) {
    const auto sessions = json::parse(n.sessions_json, nullptr, false);
    list.push_back(json{{"name", n.name},
                        {"number", n.number},
                        {"this", n.name == registry->node()},
                        {"state", cluster::state_name(n.state)},
                        {"version", n.version},
                        {"listeners", n.listeners},
                        {"passive", n.passive},
                        {"started", n.started},
                        {"heartbeat", n.heartbeat},
                        {"heartbeat_age_seconds", static_cast<std::int64_t>(n.heartbeat_age_seconds)},
                        {"sessions", sessions.is_array() ? sessions.size() : 0}});
  }
  send_json(res, json{{"cluster", true}, {"nodes", list}});
}

// How long DELETE /sessions/{id} waits for another node to take the request (it does at its next
// heartbeat).
constexpr auto kRemoteEndWait = std::chrono::milliseconds(4000);

void end_session(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto& text = req.matches[1].str();
  std::optional<Duration> ban;
  if (req.has_param("ban")) {
    ban = parse_ban_duration(req.get_param_value("ban"));
    if (!ban) {
      send_error(res, 422, bad_duration("ban"), "ban");
      return;
    }
  }
  std::uint64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  const bool parsed = ec == std::errc() && end == text.data() + text.size();
  const auto session = parsed ? api.services->registry.find(id) : std::nullopt;
  std::string client;
  json answer{{"id", id}, {"ended", true}};
  int status = 200;
  if (session && api.services->registry.end(id)) {
    client = session->client;
    if (api.hooks.nodes) answer["node"] = api.hooks.nodes->node();
  } else if (parsed && api.hooks.nodes) {
    auto remote = api.hooks.nodes->end_session(id, kRemoteEndWait, client);
    if (!remote) {
      send_error(res, 503, fmt::format("the cluster database is unreachable: {}", remote.error()));
      return;
    }
    if (!*remote) {
      send_error(res, 404, fmt::format("no session {}", text));
      return;
    }
    answer["node"] = (*remote)->node;
    answer["ended"] = (*remote)->ended;
    if (!(*remote)->ended) status = 202;  // asked; the node has not taken the request yet
  } else {
    send_error(res, 404, fmt::format("no session {}", text));
    return;
  }
  api.record(req, who, "session.end",
             answer.contains("node")
                 ? fmt::format("session {} on node {}", id, answer["node"].get<std::string>())
                 : fmt::format("session {}", id));
  if (ban) {
    // The client's real address (the PROXY header's on a proxied listener), as the session knows it.
    const auto network = inet::IpNetwork::parse(client);
    const auto made = network ? add_ban(api, req, who, *network, *ban, req.get_param_value("ban"),
                                        fmt::format("banned by {} (session {})", who.name, id))
                              : std::nullopt;
    if (!made) {
      send_error(res, 500, fmt::format("the session ended, but its client {} could not be banned", client));
      return;
    }
    answer["ban"] = *made;
  }
  send_json(res, answer, status);
}

}  // namespace

std::string session_list_json(const session::SessionRegistry& registry) {
  json list = json::array();
  for (const auto& s : registry.list()) list.push_back(session_json(s));
  return list.dump();
}

void add_session_routes(Api& api, Router& router) {
  router.get("/api/v1/status", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) status(api, res);
  });
  router.get("/api/v1/status/history", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) send_json(res, api.history.to_json(sample(*api.services)));
  });
  router.get("/api/v1/sessions", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) sessions(api, res);
  });
  router.get("/api/v1/nodes", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) nodes(api, res);
  });
  router.del("/api/v1/sessions/{id}", [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kOperator, "ending a session"))
      end_session(api, req, res, *who);
  });
}

}  // namespace ftpsd::admin
