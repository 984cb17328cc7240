#include "tools/doctor.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <asio/ssl.hpp>
#include <memory>

#include "runtime/asio.hpp"
#include "runtime/timeout.hpp"

namespace ftpsd::tools {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// One TCP connection, clear or TLS in the client role.
struct Conn {
  explicit Conn(const asio::any_io_executor& ex) : sock(ex) {}
  tcp::socket sock;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;

  Task<std::tuple<std::error_code, std::size_t>> read_some(asio::mutable_buffer b) {
    if (tls) co_return co_await tls->async_read_some(b, kTuple);
    co_return co_await sock.async_read_some(b, kTuple);
  }
  Task<std::tuple<std::error_code, std::size_t>> write(asio::const_buffer b) {
    if (tls) co_return co_await asio::async_write(*tls, b, kTuple);
    co_return co_await asio::async_write(sock, b, kTuple);
  }
  // TLS in the client role; `reuse`: the control connection's session, for data connections.
  Task<std::error_code> handshake(asio::ssl::context& ctx, const std::string& host, SSL_SESSION* reuse) {
    tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock, ctx);
    SSL* ssl = tls->native_handle();
    // SNI, by which a server of several domains picks the certificate (never an IP address: RFC 6066).
    if (is_host_name(host)) SSL_set_tlsext_host_name(ssl, host.c_str());
    if (reuse != nullptr) SSL_set_session(ssl, reuse);
    auto [ec] = co_await tls->async_handshake(asio::ssl::stream_base::client, kTuple);
    co_return ec;
  }
};

// The DNS names of the peer's certificate: its subjectAltNames, or without any its common name.
std::vector<std::string> certificate_names(SSL* ssl) {
  std::vector<std::string> names;
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const auto* data = ASN1_STRING_get0_data(name->d.dNSName);
    names.emplace_back(
        reinterpret_cast<const char*>(data),  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName)));
  }
  GENERAL_NAMES_free(sans);
  if (!names.empty()) return names;
  const X509_NAME* subject = X509_get_subject_name(cert.get());
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return names;
  const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  names.emplace_back(reinterpret_cast<const char*>(
                         ASN1_STRING_get0_data(cn)),  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
                     static_cast<std::size_t>(ASN1_STRING_length(cn)));
  return names;
}

struct FtpReply {
  int code = 0;
  std::string text;
};

class Doctor {
 public:
  Doctor(const asio::any_io_executor& ex, const DoctorOptions& o)
      : ex_(ex), o_(o), ctl_(ex), ssl_(asio::ssl::context::tls_client) {
    ssl_.set_default_verify_paths();
    ssl_.set_verify_mode(asio::ssl::verify_none);  // verified by hand below: a self-signed one is a warning
    SSL_CTX_set_session_cache_mode(ssl_.native_handle(), SSL_SESS_CACHE_CLIENT);
  }

  Task<int> run();

 private:
  void report(std::string_view name, const StepResult& r) {
    fmt::print("{}", format_step(name, r));
    std::fflush(stdout);
    if (r.verdict == Verdict::kFail) ++failures_;
  }

  template <class T>
  Task<std::optional<T>> bounded(Task<T> op) {
    co_return co_await runtime::with_timeout(std::move(op), o_.timeout);
  }

  Task<Result<FtpReply, std::string>> read_reply();
  Task<Result<FtpReply, std::string>> command(std::string line);
  Task<bool> connect_control();
  Task<bool> secure_control();
  Task<bool> login();
  Task<StepResult> transfer(tcp::endpoint data, std::string cmd, const std::string* upload,
                            std::string* download, bool active);
  Task<void> passive_checks();
  Task<void> upload_download();
  Task<void> epsv_check();
  Task<void> active_check();

  asio::any_io_executor ex_;
  const DoctorOptions& o_;
  Conn ctl_;
  asio::ssl::context ssl_;
  std::string in_;
  asio::ip::address server_;  // the address the control connection reached
  int failures_ = 0;
  bool tls_ = false;
};

Task<Result<FtpReply, std::string>> Doctor::read_reply() {
  FtpReply reply;
  for (;;) {
    const auto eol = in_.find("\r\n");
    if (eol != std::string::npos) {
      const std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      if (reply.code == 0 && line.size() >= 3) reply.code = std::atoi(line.substr(0, 3).c_str());
      reply.text += (reply.text.empty() ? "" : "\n") + line;
      if (line.size() >= 4 && line[3] == ' ' && std::atoi(line.substr(0, 3).c_str()) == reply.code)
        co_return reply;
      continue;
    }
    std::array<char, 4096> buf{};
    auto r = co_await bounded(ctl_.read_some(asio::buffer(buf)));
    if (!r) co_return Unexpected{std::string("no reply within the timeout")};
    auto [ec, n] = *r;
    if (ec) co_return Unexpected{"control connection closed: " + ec.message()};
    in_.append(buf.data(), n);
  }
}

Task<Result<FtpReply, std::string>> Doctor::command(std::string line) {
  line += "\r\n";
  auto w = co_await bounded(ctl_.write(asio::buffer(line)));
  if (!w || std::get<0>(*w)) co_return Unexpected{std::string("cannot send on the control connection")};
  co_return co_await read_reply();
}

Task<bool> Doctor::connect_control() {
  const auto& t = o_.target;
  tcp::resolver resolver(ex_);
  const std::string& address = o_.connect_to.empty() ? t.host : o_.connect_to;
  auto res = co_await bounded(resolver.async_resolve(address, std::to_string(t.port), kTuple));
  if (!res || std::get<0>(*res)) {
    report("resolve " + address, {Verdict::kFail, res ? std::get<0>(*res).message() : "timeout",
                                  "check the host name (DNS) or use the server's IP address"});
    co_return false;
  }
  const auto start = Clock::now();
  auto c = co_await bounded(asio::async_connect(ctl_.sock, std::get<1>(*res), kTuple));
  const std::string name = o_.connect_to.empty()
                               ? fmt::format("TCP connect to {}:{}", t.host, t.port)
                               : fmt::format("TCP connect to {}:{} (for {})", address, t.port, t.host);
  if (!c || std::get<0>(*c)) {
    report(name,
           {Verdict::kFail, c ? std::get<0>(*c).message() : "timeout",
            fmt::format("nothing answers on TCP {}: is ftpsd running, and is the port open and forwarded on "
                        "every firewall and router on the way? (`ftpsd firewall` lists what to open)",
                        t.port)});
    co_return false;
  }
  std::error_code ec;
  server_ = ctl_.sock.remote_endpoint(ec).address();
  report(name,
         {Verdict::kPass,
          fmt::format("{} in {} ms", server_.to_string(),
                      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count()),
          ""});
  co_return true;
}

Task<bool> Doctor::secure_control() {
  auto ec = co_await bounded(ctl_.handshake(ssl_, o_.target.host, nullptr));
  if (!ec || *ec) {
    report("TLS handshake",
           {Verdict::kFail, ec ? ec->message() : "timeout",
            o_.target.tls == DoctorTls::kImplicit
                ? "is this port really implicit FTPS (`tls = \"implicit\"`)? Try ftps:// without --implicit"
                : "the server's certificate or TLS settings ([tls]) are wrong; see the server's log"});
    co_return false;
  }
  SSL* ssl = ctl_.tls->native_handle();
  report("TLS handshake",
         {Verdict::kPass, fmt::format("{} {}", SSL_get_version(ssl), SSL_get_cipher_name(ssl)), ""});
  // The names first (a mismatch is what breaks clients), then whether the chain is trusted.
  const bool named = is_host_name(o_.target.host);
  const auto names = named ? judge_certificate_names(certificate_names(ssl), o_.target.host)
                           : StepResult{Verdict::kPass, "", ""};
  const long verify = SSL_get_verify_result(ssl);
  if (names.verdict != Verdict::kPass)
    report("certificate", names);
  else if (verify == X509_V_OK)
    report("certificate",
           {Verdict::kPass, named ? "trusted, and valid for " + o_.target.host : "trusted", ""});
  else
    report("certificate",
           {Verdict::kWarn, X509_verify_cert_error_string(verify),
            fmt::format("clients will ask to trust it; use a certificate from a public CA for {} "
                        "(tls.certificate), or distribute this one",
                        o_.target.host)});
  tls_ = true;
  co_return true;
}

Task<bool> Doctor::login() {
  auto u = co_await command("USER " + o_.target.user);
  if (!u) {
    report("login", {Verdict::kFail, u.error(), ""});
    co_return false;
  }
  if (u->code == 331) u = co_await command("PASS " + o_.password);
  if (!u || u->code != 230) {
    report("login", {Verdict::kFail, u ? u->text : u.error(),
                     u && u->code == 530 && !tls_ ? "the server may require TLS: use ftps://"
                                                  : "check the user name and password"});
    co_return false;
  }
  report("login", {Verdict::kPass, "as " + o_.target.user, ""});
  if (tls_) {
    auto p = co_await command("PBSZ 0");
    if (p && p->code == 200) p = co_await command("PROT P");
    if (!p || p->code != 200) {
      report("PROT P",
             {Verdict::kFail, p ? p->text : p.error(), "the server refuses protected data connections"});
      co_return false;
    }
  }
  (void)co_await command("TYPE I");
  co_return true;
}

// Opens the data connection (connect for passive, accept for active), sends `cmd`, runs TLS with the
// control session, moves the data.
Task<StepResult> Doctor::transfer(tcp::endpoint data, std::string cmd, const std::string* upload,
                                  std::string* download, bool active) {
  Conn dc(ex_);
  std::optional<tcp::acceptor> acceptor;
  if (active) {
    acceptor.emplace(ex_, data);
  } else {
    auto c = co_await bounded(dc.sock.async_connect(data, kTuple));
    if (!c || std::get<0>(*c))
      co_return StepResult{
          Verdict::kFail,
          fmt::format("cannot connect to {}:{}: {}", data.address().to_string(), data.port(),
                      c ? std::get<0>(*c).message() : "timeout"),
          "the passive port is not reachable: forward (router) and open (firewall) the whole "
          "passive.ports range to the server; `ftpsd firewall` lists it"};
  }
  auto pre = co_await command(cmd);
  if (!pre || (pre->code != 150 && pre->code != 125))
    co_return StepResult{Verdict::kFail, pre ? pre->text : pre.error(), ""};
  if (active) {
    auto a = co_await bounded(acceptor->async_accept(kTuple));
    if (!a || std::get<0>(*a)) {
      (void)co_await read_reply();
      co_return StepResult{Verdict::kWarn, "the server could not connect back to this client",
                           "active mode does not work from this network (a firewall or NAT on the client's "
                           "side); clients here must use passive mode, which is the default of most clients"};
    }
    dc.sock = std::move(std::get<1>(*a));
  }
  bool resumed = false;
  if (tls_) {
    SSL_SESSION* session = SSL_get1_session(ctl_.tls->native_handle());
    auto ec = co_await bounded(dc.handshake(ssl_, o_.target.host, session));
    SSL_SESSION_free(session);
    if (!ec || *ec) {
      (void)co_await read_reply();
      co_return StepResult{Verdict::kFail,
                           "TLS on the data connection failed: " + (ec ? ec->message() : "timeout"),
                           "see the server's log: a refused session reuse, or a data connection from an "
                           "unexpected address (a proxy or load balancer in between)"};
    }
    resumed = SSL_session_reused(dc.tls->native_handle()) == 1;
  }
  if (upload != nullptr) {
    (void)co_await bounded(dc.write(asio::buffer(*upload)));
  } else {
    std::array<char, 16384> buf{};
    for (;;) {
      auto r = co_await bounded(dc.read_some(asio::buffer(buf)));
      if (!r || std::get<0>(*r)) break;
      if (download) download->append(buf.data(), std::get<1>(*r));
    }
  }
  if (dc.tls) {
    SSL_set_shutdown(dc.tls->native_handle(), SSL_RECEIVED_SHUTDOWN);
    (void)co_await bounded(dc.tls->async_shutdown(kTuple));
  }
  std::error_code ignored;
  dc.sock.shutdown(tcp::socket::shutdown_both, ignored);
  dc.sock.close(ignored);
  auto done = co_await read_reply();
  if (!done || done->code != 226) co_return StepResult{Verdict::kFail, done ? done->text : done.error(), ""};
  co_return StepResult{Verdict::kPass, tls_ ? (resumed ? "TLS session resumed" : "TLS (not resumed)") : "",
                       ""};
}

Task<void> Doctor::passive_checks() {
  for (int i = 0; i < o_.passive_ports; ++i) {
    auto r = co_await command("PASV");
    if (!r || r->code != 227) {
      report("PASV", {Verdict::kFail, r ? r->text : r.error(),
                      r && r->code == 522 ? "use EPSV (IPv6)" : "see the server's log"});
      co_return;
    }
    const auto target = parse_227(r->text);
    if (!target) {
      report("PASV", {Verdict::kFail, "unparsable reply: " + r->text, ""});
      co_return;
    }
    const auto judged = judge_pasv_address(target->address, server_.to_string());
    if (i == 0) report(fmt::format("PASV address"), judged);
    std::error_code ec;
    const tcp::endpoint ep(asio::ip::make_address(target->address, ec), target->port);
    auto t = co_await transfer(ep, "NLST", nullptr, nullptr, false);
    if (t.verdict == Verdict::kFail && judged.verdict == Verdict::kFail) t.fix = judged.fix;
    t.detail = fmt::format("port {}{}{}", target->port, t.detail.empty() ? "" : ", ", t.detail);
    report(fmt::format("passive data connection {}/{}", i + 1, o_.passive_ports), t);
  }
}

Task<void> Doctor::upload_download() {
  const std::string name = fmt::format(".ftpsd-doctor-{}.bin", ::getpid());
  std::string payload(64 * 1024, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  auto pasv = co_await command("EPSV");
  const auto port = pasv && pasv->code == 229 ? parse_229(pasv->text) : std::nullopt;
  if (!port) {
    report("upload", {Verdict::kSkip, "no EPSV", ""});
    co_return;
  }
  auto up = co_await transfer(tcp::endpoint(server_, *port), "STOR " + name, &payload, nullptr, false);
  if (up.verdict == Verdict::kFail && up.detail.starts_with("55")) {
    report("upload", {Verdict::kSkip, "no write permission for this user", ""});
    co_return;
  }
  report(fmt::format("upload 64 KiB{}", tls_ ? " over PROT P" : ""), up);
  if (up.verdict != Verdict::kPass) co_return;
  pasv = co_await command("EPSV");
  const auto port2 = pasv && pasv->code == 229 ? parse_229(pasv->text) : std::nullopt;
  std::string back;
  auto down = port2 ? co_await transfer(tcp::endpoint(server_, *port2), "RETR " + name, nullptr, &back, false)
                    : StepResult{Verdict::kFail, "no EPSV", ""};
  if (down.verdict == Verdict::kPass && back != payload)
    down = {Verdict::kFail, fmt::format("got {} bytes back, not the {} sent", back.size(), payload.size()),
            ""};
  report(fmt::format("download 64 KiB{}", tls_ ? " over PROT P" : ""), down);
  (void)co_await command("DELE " + name);
}

Task<void> Doctor::epsv_check() {
  auto r = co_await command("EPSV");
  const auto port = r && r->code == 229 ? parse_229(r->text) : std::nullopt;
  if (!port) {
    report("EPSV", {Verdict::kWarn, r ? r->text : r.error(), "clients will fall back to PASV"});
    co_return;
  }
  auto t = co_await transfer(tcp::endpoint(server_, *port), "NLST", nullptr, nullptr, false);
  t.detail = fmt::format("port {}{}{}", *port, t.detail.empty() ? "" : ", ", t.detail);
  report("EPSV data connection", t);
}

Task<void> Doctor::active_check() {
  std::error_code ec;
  const auto local = ctl_.sock.local_endpoint(ec).address();
  tcp::acceptor probe(ex_, tcp::endpoint(local, 0));
  const auto port = probe.local_endpoint(ec).port();
  probe.close(ec);
  const std::string cmd = local.is_v4() ? fmt::format("EPRT |1|{}|{}|", local.to_string(), port)
                                        : fmt::format("EPRT |2|{}|{}|", local.to_string(), port);
  auto r = co_await command(cmd);
  if (!r || r->code != 200) {
    report("active mode", {r && r->code == 502 ? Verdict::kSkip : Verdict::kWarn, r ? r->text : r.error(),
                           r && r->code == 501 ? "this client is behind NAT: passive mode is the way" : ""});
    co_return;
  }
  auto t = co_await transfer(tcp::endpoint(local, port), "NLST", nullptr, nullptr, true);
  report("active mode (EPRT)", t);
}

Task<int> Doctor::run() {
  fmt::print("ftpsd doctor: {}://{}@{}:{}{}\n", o_.target.tls == DoctorTls::kNone ? "ftp" : "ftps",
             o_.target.user, o_.target.host, o_.target.port,
             o_.target.tls == DoctorTls::kImplicit ? " (implicit TLS)" : "");
  if (!co_await connect_control()) co_return 1;
  if (o_.target.tls == DoctorTls::kImplicit && !co_await secure_control()) co_return 1;
  auto greeting = co_await read_reply();
  if (!greeting || greeting->code != 220) {
    report("greeting", {Verdict::kFail, greeting ? greeting->text : greeting.error(),
                        "is this an FTP server? For implicit FTPS use --implicit"});
    co_return 1;
  }
  report("greeting", {Verdict::kPass, greeting->text, ""});
  // RFC 7151: the name the client wants, before AUTH TLS, so a server of several domains answers as it.
  if (o_.send_host && is_host_name(o_.target.host)) {
    auto h = co_await command("HOST " + o_.target.host);
    if (!h) {
      report("HOST " + o_.target.host, {Verdict::kFail, h.error(), ""});
      co_return 1;
    }
    report("HOST " + o_.target.host, judge_host_reply(o_.target.host, h->code, h->text));
  }
  if (o_.target.tls == DoctorTls::kNone)
    report("encryption",
           {Verdict::kWarn, "clear FTP: the password and the files travel unencrypted",
            "use ftps:// (on the server: [tls] certificate and a listener with tls = \"explicit\")"});
  if (o_.target.tls == DoctorTls::kExplicit) {
    auto a = co_await command("AUTH TLS");
    if (!a || a->code != 234) {
      report("AUTH TLS",
             {Verdict::kFail, a ? a->text : a.error(),
              "the listener has no TLS: set tls = \"explicit\" and [tls] certificate/private_key"});
      co_return 1;
    }
    if (!co_await secure_control()) co_return 1;
  }
  if (!co_await login()) co_return 1;
  co_await passive_checks();
  co_await upload_download();
  co_await epsv_check();
  co_await active_check();
  (void)co_await command("QUIT");
  fmt::print("{}\n", failures_ == 0 ? "All checks passed." : fmt::format("{} check(s) failed.", failures_));
  co_return failures_ == 0 ? 0 : 1;
}

}  // namespace

int run_doctor(const DoctorOptions& options) {
  asio::io_context io;
  int code = 1;
  Doctor doctor(io.get_executor(), options);
  asio::co_spawn(io, doctor.run(), [&](const std::exception_ptr& e, int rc) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        fmt::print("[FAIL] internal error: {}\n", ex.what());
      }
      return;
    }
    code = rc;
  });
  io.run();
  return code;
}

}  // namespace ftpsd::tools
