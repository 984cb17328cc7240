#include "tools/doctor_checks.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "inet/ip_network.hpp"
#include "protocol/host_port.hpp"

namespace ftpsd::tools {

Result<DoctorTarget, std::string> parse_doctor_url(std::string_view url, bool implicit) {
  DoctorTarget t;
  if (url.starts_with("ftp://")) {
    url.remove_prefix(6);
    if (implicit) return Unexpected{std::string("--implicit needs an ftps:// URL")};
  } else if (url.starts_with("ftps://")) {
    url.remove_prefix(7);
    t.tls = implicit ? DoctorTls::kImplicit : DoctorTls::kExplicit;
    t.port = implicit ? 990 : 21;
  } else {
    return Unexpected{std::string("expected ftp://user@host[:port] or ftps://user@host[:port]")};
  }
  if (const auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at == 0)
    return Unexpected{std::string("the URL needs a user: ftps://USER@host")};
  t.user = std::string(url.substr(0, at));
  if (t.user.find(':') != std::string::npos)
    return Unexpected{
        std::string("put no password in the URL: it is read from standard input or FTPSD_PASSWORD")};
  std::string_view hostport = url.substr(at + 1);
  std::string_view port;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return Unexpected{std::string("unclosed [ in the host")};
    t.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (hostport.starts_with(':'))
      port = hostport.substr(1);
    else if (!hostport.empty())
      return Unexpected{std::string("unexpected text after the host")};
  } else {
    const auto colon = hostport.find(':');
    t.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
  }
  if (t.host.empty()) return Unexpected{std::string("the URL needs a host")};
  if (!port.empty()) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc{} || end != port.data() + port.size() || p == 0 || p > 65535)
      return Unexpected{fmt::format("'{}' is not a port", port)};
    t.port = static_cast<std::uint16_t>(p);
  }
  return t;
}

std::optional<PassiveTarget> parse_227(std::string_view text) {
  const auto open = text.find('(');
  const auto close = text.find(')', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
  auto hp = protocol::parse_port(text.substr(open + 1, close - open - 1));
  if (!hp) return std::nullopt;
  return PassiveTarget{hp->address, hp->port};
}

std::optional<std::uint16_t> parse_229(std::string_view text) {
  const auto open = text.find("(|||");
  if (open == std::string_view::npos) return std::nullopt;
  const auto start = open + 4;
  const auto end = text.find("|)", start);
  if (end == std::string_view::npos) return std::nullopt;
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + end, p);
  if (ec != std::errc{} || ptr != text.data() + end || p == 0 || p > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(p);
}

StepResult judge_pasv_address(const std::string& advertised, const std::string& control_peer) {
  std::error_code e1;
  std::error_code e2;
  const auto adv = inet::unmap(asio::ip::make_address(advertised, e1));
  const auto peer = inet::unmap(asio::ip::make_address(control_peer, e2));
  if (e1 || e2) return {Verdict::kFail, fmt::format("unparsable address {}", advertised), ""};
  if (adv == peer)
    return {Verdict::kPass, fmt::format("{} (the address this client connected to)", advertised), ""};
  if (!inet::is_public(adv) && inet::is_public(peer))
    return {
        Verdict::kFail,
        fmt::format("{} is a {} address, but you reached the server at the public {}: the server is behind "
                    "NAT and advertises its internal address",
                    advertised, inet::describe(inet::classify(adv)), control_peer),
        fmt::format("on the server set passive.address = \"{}\" (or its host name) in [passive]; clients "
                    "using EPSV are not affected",
                    control_peer)};
  return {
      Verdict::kWarn,
      fmt::format("{} differs from the address you connected to ({}): fine if the server is reachable there",
                  advertised, control_peer),
      ""};
}

bool is_host_name(std::string_view host) {
  std::error_code ec;
  (void)asio::ip::make_address(std::string(host), ec);
  return static_cast<bool>(ec);
}

StepResult judge_host_reply(std::string_view host, int code, const std::string& text) {
  if (code == 220) return {Verdict::kPass, text, ""};
  if (code == 500 || code == 502)
    return {
        Verdict::kWarn, fmt::format("the server does not know HOST: {}", text),
        fmt::format("this server cannot tell domains apart by name: clients asking for {} get the site of "
                    "the address and port they connect to",
                    host)};
  return {
      Verdict::kFail, fmt::format("the server serves no domain named {}: {}", host, text),
      fmt::format("add \"{}\" to the hosts of its [[domains]] entry on the server, or connect with a name "
                  "it serves",
                  host)};
}

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool certificate_name_matches(std::string_view name, std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (name.ends_with('.')) name.remove_suffix(1);
  if (host.empty() || name.empty()) return false;
  if (!name.starts_with("*.")) return iequal(name, host);
  // A wildcard is the whole leftmost label and stands for exactly one label of the host.
  const auto dot = host.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  const auto rest = name.substr(2);
  return rest.find('.') != std::string_view::npos && iequal(rest, host.substr(dot + 1));
}

bool certificate_covers(const std::vector<std::string>& names, std::string_view host) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& name) { return certificate_name_matches(name, host); });
}

StepResult judge_certificate_names(const std::vector<std::string>& names, std::string_view host) {
  if (certificate_covers(names, host)) return {Verdict::kPass, fmt::format("valid for {}", host), ""};
  return {Verdict::kFail,
          fmt::format("the server's certificate is for {}, not {}",
                      names.empty() ? std::string("no host name") : fmt::format("{}", fmt::join(names, ", ")),
                      host),
          fmt::format(
              "clients connecting to {} will refuse it: give the domain serving {} a certificate for that "
              "name (tls.certificate of its [[domains]] entry), or connect with a name the certificate has",
              host, host)};
}

std::string format_step(std::string_view name, const StepResult& r) {
  std::string_view tag = "PASS";
  switch (r.verdict) {
    case Verdict::kPass:
      break;
    case Verdict::kWarn:
      tag = "WARN";
      break;
    case Verdict::kFail:
      tag = "FAIL";
      break;
    case Verdict::kSkip:
      tag = "SKIP";
      break;
  }
  std::string out = fmt::format("[{}] {}", tag, name);
  if (!r.detail.empty()) out += ": " + r.detail;
  out += "\n";
  if (!r.fix.empty()) out += fmt::format("       fix: {}\n", r.fix);
  return out;
}

}  // namespace ftpsd::tools
