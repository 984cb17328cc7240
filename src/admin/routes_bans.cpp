// /bans: the server's ban list (net::Bans, the one failed FTP logins feed): what is banned, and an
// operator's bans of addresses and networks, made and lifted. A banned address's next FTP connection
// gets 421 before the greeting. In a cluster the list holds the bans of every node, and a lift here
// lifts the ban everywhere (net::Bans hands it to the cluster layer).
#include <fmt/format.h>

#include "admin/routes.hpp"
#include "util/duration.hpp"

namespace ftpsd::admin {
namespace {

using BanClock = net::Bans::Clock;

std::chrono::system_clock::time_point wall(BanClock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - BanClock::now());
}

// In a cluster, "node": the node that made the ban.
json ban_json(const net::Bans::Listed& b) {
  auto out = json{{"address", b.address}, {"until", utc(wall(b.until))}, {"reason", b.reason}};
  if (!b.node.empty()) out["node"] = b.node;
  return out;
}

void list(const Api& api, Response& res) {
  json bans = json::array();
  for (const auto& b : api.services->bans.list(BanClock::now())) bans.push_back(ban_json(b));
  send_json(res, json{{"bans", bans}});
}

void add(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto body = object_body(req, res);
  if (!body) return;
  if (!body->contains("address")) return send_error(res, 422, "'address' is required", "address");
  const auto& address = (*body)["address"];
  const auto network =
      address.is_string() ? inet::IpNetwork::parse(address.get<std::string>()) : std::nullopt;
  if (!network)
    return send_error(res, 422, "'address' must be an IP address or a network such as 203.0.113.0/24",
                      "address");
  if (!body->contains("duration")) return send_error(res, 422, "'duration' is required", "duration");
  const auto& text = (*body)["duration"];
  const auto duration = text.is_string() ? parse_ban_duration(text.get<std::string>()) : std::nullopt;
  if (!duration) return send_error(res, 422, bad_duration("duration"), "duration");
  const auto ban = add_ban(api, req, who, *network, *duration, text.get<std::string>(),
                           fmt::format("banned by {}", who.name));
  if (!ban) return send_error(res, 409, fmt::format("too many bans ({} at most)", net::Bans::kMaxManual));
  send_json(res, *ban, 201);
}

void lift(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto text = req.matches[1].str();
  const auto network = inet::IpNetwork::parse(text);
  if (!network) return send_error(res, 400, fmt::format("'{}' is not an IP address or a network", text));
  const auto shown = net::Bans::display(*network);
  if (!api.services->bans.lift(*network, BanClock::now()))
    return send_error(res, 404, fmt::format("no ban on {}", shown));
  api.record(req, who, "ban.remove", shown);
  send_json(res, json{{"address", shown}, {"lifted", true}});
}

}  // namespace

std::optional<Duration> parse_ban_duration(std::string_view text) {
  constexpr auto kLongest = std::chrono::hours(24 * 366 * 10);  // far from the clock's end
  auto d = parse_duration(text);
  if (!d || d->count() <= 0) return std::nullopt;
  return std::min<Duration>(*d, kLongest);
}

std::string bad_duration(std::string_view field) {
  return fmt::format(R"('{}' must be a duration such as "30s", "15m" or "1h", more than 0)", field);
}

std::optional<json> add_ban(Api& api, const Request& req, const TokenHolder& who,
                            const inet::IpNetwork& network, Duration duration, std::string_view duration_text,
                            std::string reason) {
  const auto now = BanClock::now();
  const auto until = now + duration;
  if (!api.services->bans.ban(network, until, reason, now)) return std::nullopt;
  const auto shown = net::Bans::display(network);
  api.record(req, who, "ban.add", fmt::format("{} for {}", shown, duration_text));
  return ban_json(
      {.address = shown, .until = until, .reason = std::move(reason), .node = api.services->bans.node()});
}

void add_ban_routes(Api& api, Router& router) {
  router.get("/api/v1/bans", [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) list(api, res);
  });
  router.post("/api/v1/bans", [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kOperator, "managing bans"))
      add(api, req, res, *who);
  });
  // A network arrives URL-encoded ("203.0.113.0%2F24"); cpp-httplib decodes the path before routing, so
  // the parameter may hold a '/'.
  router.del(
      "/api/v1/bans/{address}",
      [&api](const Request& req, Response& res) {
        if (const auto who = api.require(req, res, auth::AdminRole::kOperator, "managing bans"))
          lift(api, req, res, *who);
      },
      Router::kLastParameterMaySpanSegments);
}

}  // namespace ftpsd::admin
