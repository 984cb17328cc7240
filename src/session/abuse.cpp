#include "session/abuse.hpp"

#include <spdlog/spdlog.h>

#include "inet/ip_network.hpp"
#include "obs/metrics.hpp"

namespace ftpsd::session {

OffenceResult report_offence(Services& services, const config::Config& cfg, const asio::ip::address& client,
                             Offence kind, std::string_view detail) {
  const auto address = inet::unmap(client);
  const auto now = net::Bans::Clock::now();
  if (kind == Offence::kLogin) {
    spdlog::warn("login failed: client={} {}", address.to_string(), detail);
  } else {
    obs::count(obs::metrics().protocol_abuse);
    spdlog::warn("protocol abuse: client={} {}", address.to_string(), detail);
  }
  const auto f = services.bans.record_failure(address, cfg.bans, now);
  if (f.banned) {
    obs::count(obs::metrics().bans_started);
    spdlog::warn("ban: client={} for {}s after {} failures", address.to_string(),
                 std::chrono::duration_cast<std::chrono::seconds>(cfg.bans.duration).count(), f.recent);
  }
  const bool banned = f.banned || services.bans.banned_until(address, cfg.bans, now).has_value();
  return {.recent = f.tracked ? f.recent : 0,
          .banned = banned,
          .exempt = inet::any_contains(cfg.bans.exempt, address)};
}

Duration login_delay(const config::BansConfig& cfg, std::size_t failures) {
  if (cfg.login_delay.count() <= 0 || failures == 0) return Duration::zero();
  Duration d = cfg.login_delay;
  for (std::size_t i = 1; i < failures && d < cfg.max_login_delay; ++i) d *= 2;
  return std::min(d, cfg.max_login_delay);
}

std::string log_safe(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  return out;
}

}  // namespace ftpsd::session
