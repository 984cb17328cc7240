#include "net/passive_host_resolver.hpp"

#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "inet/ip_network.hpp"

namespace ftpsd::net {
namespace {

void log_result(PassiveAddressPolicy& policy, const Result<asio::ip::address_v4, std::string>& r) {
  const auto& host = policy.host_name();
  if (!r) {
    if (auto last = policy.resolved())
      spdlog::warn("passive.address {}: lookup failed ({}); keeping {}", host, r.error(), last->to_string());
    else
      spdlog::warn(
          "passive.address {}: lookup failed ({}); PASV replies carry the local address until it "
          "resolves",
          host, r.error());
    return;
  }
  if (policy.update_resolved(*r)) {
    spdlog::info("passive.address {} resolves to {}", host, r->to_string());
    if (!inet::is_public(*r))
      spdlog::warn(
          "passive.address {} resolves to the {} address {}: clients on the internet cannot reach it", host,
          inet::describe(inet::classify(*r)), r->to_string());
  }
}

}  // namespace

Result<asio::ip::address_v4, std::string> resolve_ipv4(const std::string& host) {
  // RFC 6761 section 6.4: names under .invalid never resolve, and resolvers should say so at once
  // rather than ask a DNS server.
  std::string name = host;
  if (name.ends_with('.')) name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (name == "invalid" || name.ends_with(".invalid"))
    return Unexpected{std::string("the reserved domain .invalid never resolves")};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Unexpected{std::string(gai_strerror(rc))};
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(res, &freeaddrinfo);
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
    return asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
  }
  return Unexpected{std::string("no IPv4 address")};
}

void resolve_now(PassiveAddressPolicy& policy) {
  if (policy.host_name().empty()) return;
  log_result(policy, resolve_ipv4(policy.host_name()));
}

Task<void> keep_resolved(std::weak_ptr<PassiveAddressPolicy> weak, runtime::BlockingPool& pool,
                         Duration every) {
  std::string host;
  if (auto policy = weak.lock()) host = policy->host_name();
  if (host.empty()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(every);
    if (auto [ec] = co_await timer.async_wait(kTuple); ec) co_return;
    if (weak.expired()) co_return;
    auto r = co_await pool.run([host] { return resolve_ipv4(host); });
    auto policy = weak.lock();
    if (!policy) co_return;
    log_result(*policy, r);
  }
}

}  // namespace ftpsd::net
