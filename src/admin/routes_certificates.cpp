// /domains/{domain}/certificates: what the domain serves, and a new certificate and key installed: checked
// with OpenSSL first, written over the files the configuration names (the previous ones kept as numbered
// revisions beside them), then loaded by a reload so that the next TLS handshake uses them.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "admin/routes.hpp"
#include "sys/syscalls.hpp"
#include "tls/certificate_info.hpp"

namespace ftpsd::admin {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json certificate_json(const fs::path& certificate, const fs::path& key,
                      const std::vector<std::string>& hosts) {
  json out{{"certificate_file", certificate.string()}, {"private_key_file", key.string()}, {"hosts", hosts}};
  const auto text = read_text(certificate);
  auto info = text ? tls::inspect_certificate(*text)
                   : Result<tls::CertificateInfo, std::string>(Unexpected{std::string("cannot read it")});
  if (!info) {
    out["error"] = fmt::format("{}: {}", certificate.string(), info.error());
    return out;
  }
  const auto now = std::chrono::system_clock::now();
  out.update(json{{"subject", info->subject},
                  {"issuer", info->issuer},
                  {"names", info->names},
                  {"serial", info->serial},
                  {"not_before", utc(info->not_before)},
                  {"not_after", utc(info->not_after)},
                  {"days_left", std::chrono::floor<std::chrono::days>(info->not_after - now).count()},
                  {"key_type", info->key_type},
                  {"key_bits", info->key_bits},
                  {"chain", info->chain}});
  return out;
}

// The domain's TLS settings as its sessions see them, and whether the certificate is its own.
struct Served {
  std::string domain;
  config::TlsConfig tls;
  bool own = false;
};

std::optional<Served> served(const Api& api, const Request& req, Response& res) {
  const auto named = api.named_domain(req, res);
  if (!named) return std::nullopt;
  const std::string& name = named->domain->name;
  Served out{.domain = name, .tls = named->domain->config->tls, .own = name == "default"};
  for (const auto& d : named->snapshot.config->domains)
    if (d.name == name) out.own = d.own_certificate;
  return out;
}

void list(const Api& api, const Request& req, Response& res) {
  const auto s = served(api, req, res);
  if (!s) return;
  json certificates = json::array();
  if (s->tls.configured()) {
    certificates.push_back(certificate_json(s->tls.certificate, s->tls.private_key, {}));
    for (const auto& pair : s->tls.certificates)
      certificates.push_back(certificate_json(pair.certificate, pair.private_key, pair.hosts));
  }
  send_json(res, json{{"domain", s->domain}, {"certificates", certificates}});
}

// <folder>/<name>.revisions/<n>.pem: the next number there.
fs::path next_revision(const fs::path& file) {
  const auto folder = file.parent_path() / (file.filename().string() + ".revisions");
  unsigned last = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const auto name = entry.path().filename().string();
    unsigned n = 0;
    const auto [p, err] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (err == std::errc{} && std::string_view(p) == ".pem") last = std::max(last, n);
  }
  return folder / fmt::format("{}.pem", last + 1);
}

// Keeps the file's text as its next revision, then writes `text` over it durably. Error: a message.
Result<fs::path, std::string> replace_kept(const fs::path& file, const std::string& old_text,
                                           const std::string& text, mode_t mode) {
  const auto revision = next_revision(file);
  std::error_code ec;
  fs::create_directories(revision.parent_path(), ec);
  if (ec) return Unexpected{fmt::format("{}: {}", revision.parent_path().string(), ec.message())};
  if (auto err = sys::write_file_durably(revision.string(), old_text, S_IRUSR | S_IWUSR))
    return Unexpected{fmt::format("{}: {}", revision.string(), err.message())};
  if (auto err = sys::write_file_durably(file.string(), text, mode))
    return Unexpected{fmt::format("{}: {}", file.string(), err.message())};
  return revision;
}

mode_t mode_of(const fs::path& file, mode_t fallback) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 ? (st.st_mode & 07777) : fallback;
}

void install(Api& api, const Request& req, Response& res, const TokenHolder& who) {
  const auto s = served(api, req, res);
  if (!s) return;
  const auto body = object_body(req, res);
  if (!body) return;
  if (!s->tls.configured()) {
    send_error(res, 409,
               fmt::format("domain {} has no certificate (tls.certificate): TLS was not configured at start",
                           s->domain));
    return;
  }
  if (!s->own) {
    send_error(
        res, 409,
        fmt::format("domain {} serves the default's certificate: install it on default, or give {} one of "
                    "its own ([domains.tls] certificate and private_key)",
                    s->domain, s->domain));
    return;
  }
  for (const char* field : {"certificate", "private_key"}) {
    if (!body->contains(field)) return send_error(res, 422, fmt::format("'{}' is required", field), field);
    if (!(*body)[field].is_string())
      return send_error(res, 422, fmt::format("'{}' must be a string", field), field);
  }
  const auto certificate = (*body)["certificate"].get<std::string>();
  const auto key = (*body)["private_key"].get<std::string>();
  if (const auto problem = tls::check_pair(certificate, key, std::chrono::system_clock::now())) {
    const bool on_key = problem->field == tls::PairProblem::Field::kPrivateKey;
    return send_error(res, 422, problem->message, on_key ? "private_key" : "certificate");
  }
  const auto old_certificate = read_text(s->tls.certificate);
  const auto old_key = read_text(s->tls.private_key);
  if (!old_certificate || !old_key)
    return send_error(
        res, 500,
        fmt::format("cannot read {} or {}", s->tls.certificate.string(), s->tls.private_key.string()));
  const auto before = tls::inspect_certificate(*old_certificate);
  // SECURITY: the key is the owner's only, whatever mode the file had.
  auto kept_key = replace_kept(s->tls.private_key, *old_key, key, S_IRUSR | S_IWUSR);
  if (!kept_key) return send_error(res, 500, kept_key.error());
  auto kept_certificate =
      replace_kept(s->tls.certificate, *old_certificate, certificate, mode_of(s->tls.certificate, 0644));
  if (!kept_certificate) return send_error(res, 500, kept_certificate.error());
  if (const auto why_not = api.hooks.reload()) {
    // The server keeps serving the previous pair; the files go back to it too.
    (void)sys::write_file_durably(s->tls.private_key.string(), *old_key, S_IRUSR | S_IWUSR);
    (void)sys::write_file_durably(s->tls.certificate.string(), *old_certificate,
                                  mode_of(s->tls.certificate, 0644));
    return send_error(res, 422,
                      fmt::format("the server could not load it, the previous files are back: {}", *why_not));
  }
  const auto after = tls::inspect_certificate(certificate);
  const auto describe = [](const Result<tls::CertificateInfo, std::string>& i) {
    return i ? fmt::format("subject {}, serial {}, valid until {}", i->subject, i->serial, utc(i->not_after))
             : std::string("unreadable");
  };
  api.record(req, who, "certificate.install", s->domain,
             fmt::format("- {}\n+ {}\n", describe(before), describe(after)));
  json certificates = json::array();
  certificates.push_back(certificate_json(s->tls.certificate, s->tls.private_key, {}));
  for (const auto& pair : s->tls.certificates)
    certificates.push_back(certificate_json(pair.certificate, pair.private_key, pair.hosts));
  send_json(
      res,
      json{{"domain", s->domain},
           {"certificates", certificates},
           {"applied", true},
           {"kept", json{{"certificate", kept_certificate->string()}, {"private_key", kept_key->string()}}}});
}

}  // namespace

void add_certificate_routes(Api& api, Router& router) {
  const std::string path = "/api/v1/domains/{domain}/certificates";
  router.get(path, [&api](const Request& req, Response& res) {
    if (api.authenticate(req, res)) list(api, req, res);
  });
  router.put(path, [&api](const Request& req, Response& res) {
    if (const auto who = api.require(req, res, auth::AdminRole::kAdmin, "installing a certificate"))
      install(api, req, res, *who);
  });
}

}  // namespace ftpsd::admin
