#pragma once
// The TLS side of one FTP session, so that the session layer never calls OpenSSL itself: the control
// connection's handshake, the handshakes of its data connections and whether they resumed the control
// connection's TLS session (RFC 4217 §10.2: a data connection that did not may belong to someone else),
// the fresh tickets TLS 1.3 clients resume from, and the facts that logs, STAT and the Manager show.
// Used on the session's event loop only.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "runtime/asio.hpp"
#include "tls/context.hpp"
#include "tls/stream.hpp"

namespace ftpsd::tls {

// What a finished handshake tells about a connection.
struct ConnectionFacts {
  std::string description;                     // "TLSv1.3 TLS_AES_128_GCM_SHA256"
  bool resumed = false;                        // an abbreviated handshake (a resumed session)
  std::vector<std::string> client_identities;  // a verified client certificate's CN and SANs
  std::string server_name;                     // the client's SNI (control connection); empty: none
};

class SessionBinding {
 public:
  // `context`: the session's snapshot of the TLS configuration (null: TLS is not configured), kept for
  // the whole session so that its data connections resume against the same session cache and ticket
  // keys as its control connection. SECURITY: a random session id context ties the TLS sessions of
  // this control connection to its own data connections: no other control connection's session
  // resumes here.
  explicit SessionBinding(std::shared_ptr<ServerContext> context);

  [[nodiscard]] bool configured() const noexcept { return context_ != nullptr; }
  // RFC 7151 HOST: the name to choose a certificate by when the client sends no SNI. Points into the
  // session, which outlives every handshake of its connections.
  void set_host_hint(const std::string* host) noexcept { host_ = host; }

  // AUTH TLS or implicit TLS. The caller bounds it with a timeout. protocol_not_supported when TLS is
  // not configured.
  Task<std::error_code> accept_control(Stream& control);
  // PROT P, after the 150: the data connection's handshake. The server never writes tickets on a data
  // connection, and reads an upload's records in large batches. The caller bounds it with a timeout.
  Task<std::error_code> accept_data(Stream& data);
  // After a protected transfer: a fresh ticket on the control connection, for TLS 1.3 clients that
  // resume the newest one. Nothing for TLS 1.2, a clear control connection or none (null).
  static void issue_ticket(Stream* control) noexcept;

  // Only on a connection whose handshake finished.
  [[nodiscard]] static ConnectionFacts facts(const Stream& stream);
  // "TLSv1.3 TLS_AES_128_GCM_SHA256", with " (resumed session)" when resumed; "plain text" without TLS
  // or without a connection (null).
  [[nodiscard]] static std::string describe(const Stream* stream);

 private:
  void prepare(SSL* ssl) const;

  std::shared_ptr<ServerContext> context_;
  std::array<unsigned char, 24> sid_ctx_{};
  const std::string* host_ = nullptr;
};

}  // namespace ftpsd::tls
