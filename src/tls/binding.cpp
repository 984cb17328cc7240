#include "tls/binding.hpp"

#include <openssl/rand.h>

namespace ftpsd::tls {
namespace {

// With read-ahead, one recv() takes up to this much of an upload: many TLS records per system call
// instead of one (OpenSSL's default buffer holds a single record). Allocated only while a data
// connection is open.
constexpr std::size_t kDataReadBuffer = 256 * 1024;

}  // namespace

SessionBinding::SessionBinding(std::shared_ptr<ServerContext> context) : context_(std::move(context)) {
  // SECURITY: without its own random session id context a session would share one (all zeros) with
  // every other session that got no random bytes: no TLS for it rather than data connections that
  // any such session could resume.
  if (RAND_bytes(sid_ctx_.data(), static_cast<int>(sid_ctx_.size())) != 1) context_.reset();
}

void SessionBinding::prepare(SSL* ssl) const {
  SSL_set_session_id_context(ssl, sid_ctx_.data(), static_cast<unsigned>(sid_ctx_.size()));
  ServerContext::set_host_hint(ssl, host_);
}

Task<std::error_code> SessionBinding::accept_control(Stream& control) {
  if (!context_) co_return std::make_error_code(std::errc::protocol_not_supported);
  co_return co_await control.handshake(context_->context(), [this](SSL* ssl) { prepare(ssl); });
}

Task<std::error_code> SessionBinding::accept_data(Stream& data) {
  if (!context_) co_return std::make_error_code(std::errc::protocol_not_supported);
  co_return co_await data.handshake(context_->context(), [this](SSL* ssl) {
    prepare(ssl);
    // The server never writes on a data connection it only reads: no TLS 1.3 tickets here, or a
    // client that uploads and closes without reading gets a reset and loses the end of its file.
    SSL_set_num_tickets(ssl, 0);
    // A data connection carries nothing after its TLS stream: read whole batches of records at once.
    SSL_set_read_ahead(ssl, 1);
    SSL_set_default_read_buffer_len(ssl, kDataReadBuffer);
  });
}

void SessionBinding::issue_ticket(Stream* control) noexcept {
  if (SSL* ssl = control != nullptr ? control->native() : nullptr;
      ssl != nullptr && SSL_version(ssl) >= TLS1_3_VERSION)
    SSL_new_session_ticket(ssl);
}

ConnectionFacts SessionBinding::facts(const Stream& stream) {
  SSL* ssl = stream.native();
  const char* sni = ssl != nullptr ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
  return {.description = describe_connection(ssl),
          .resumed = ssl != nullptr && SSL_session_reused(ssl) == 1,
          .client_identities =
              ssl != nullptr ? ServerContext::client_identities(ssl) : std::vector<std::string>{},
          .server_name = sni != nullptr ? std::string(sni) : std::string()};
}

std::string SessionBinding::describe(const Stream* stream) {
  return describe_connection(stream != nullptr ? stream->native() : nullptr);
}

}  // namespace ftpsd::tls
