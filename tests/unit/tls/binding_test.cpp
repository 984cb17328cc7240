#include "tls/binding.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <future>
#include <thread>

#include "test_dir.hpp"
#include "tls/self_signed.hpp"

namespace ftpsd::tls {
namespace {

using asio::ip::tcp;

// A blocking OpenSSL client on its own thread, by default limited to TLS 1.2 so that its session can
// be resumed right after the handshake (TLS 1.3 tickets arrive later, with the first read).
class Client {
 public:
  explicit Client(int max_version = TLS1_2_VERSION) : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    // Counts the TLS 1.3 tickets the server sends (the callback needs the client cache mode).
    SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT);
    SSL_CTX_sess_set_new_cb(ctx_, [](SSL* ssl, SSL_SESSION*) {
      ++*static_cast<int*>(SSL_get_app_data(ssl));
      return 0;  // not kept here: handshake() keeps the newest session itself
    });
  }
  ~Client() {
    if (session_ != nullptr) SSL_SESSION_free(session_);
    SSL_CTX_free(ctx_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects, does the handshake (offering the remembered session, if any), reads what the server
  // sends until its close_notify, and keeps the new session.
  bool handshake(std::uint16_t port) {
    asio::io_context io;
    tcp::socket socket(io);
    std::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return false;
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, socket.native_handle());
    tickets_ = 0;
    SSL_set_app_data(ssl, &tickets_);
    if (session_ != nullptr) SSL_set_session(ssl, session_);
    const bool ok = SSL_connect(ssl) == 1;
    if (ok) {
      peer_name_ = peer_common_name(ssl);
      std::array<char, 64> buf{};
      while (SSL_read(ssl, buf.data(), static_cast<int>(buf.size())) > 0) {
      }
      // A connection that ended in order (no close_notify written back to a closed socket): its
      // session stays resumable.
      SSL_set_quiet_shutdown(ssl, 1);
      SSL_shutdown(ssl);
      if (session_ != nullptr) SSL_SESSION_free(session_);
      session_ = SSL_get1_session(ssl);
    }
    SSL_free(ssl);
    return ok;
  }
  // The TLS 1.3 tickets of the last connection.
  [[nodiscard]] int tickets() const noexcept { return tickets_; }
  // The CN of the certificate the server chose on the last connection.
  [[nodiscard]] const std::string& peer_name() const noexcept { return peer_name_; }

 private:
  static std::string peer_common_name(SSL* ssl) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    std::array<char, 256> cn{};
    if (cert == nullptr || X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn.data(),
                                                     static_cast<int>(cn.size())) <= 0)
      return {};
    return cn.data();
  }

  SSL_CTX* ctx_;
  SSL_SESSION* session_ = nullptr;
  int tickets_ = 0;
  std::string peer_name_;
};

class SessionBindingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.certificate = temp_.path() / "cert.pem";
    cfg_.private_key = temp_.path() / "key.pem";
    ASSERT_TRUE(write_self_signed({"ftp.example.test"}, cfg_.certificate, cfg_.private_key, 30));
    auto created = ServerContext::create(cfg_);
    ASSERT_TRUE(created) << created.error();
    context_ = *created;
  }

  // Accepts one connection and runs `accept` (a handshake of `binding`) on it while `client` runs on
  // its own thread; the server then sends one byte and its close_notify. Returns the facts of the
  // server side, or nullopt if the handshake failed.
  template <class Accept>
  std::optional<ConnectionFacts> serve_one(Accept accept, Client& client) {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto port = acceptor.local_endpoint().port();
    std::optional<ConnectionFacts> facts;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          auto [aec, socket] = co_await acceptor.async_accept(kTuple);
          if (aec) co_return;
          Stream stream(std::move(socket));
          if (auto ec = co_await accept(stream); !ec) {
            facts = SessionBinding::facts(stream);
            co_await stream.write_all(asio::buffer("x", 1));
          }
          co_await stream.close_notify();
          stream.close();
        },
        asio::detached);
    auto done = std::async(std::launch::async, [&] { return client.handshake(port); });
    io.run_for(std::chrono::seconds(20));
    EXPECT_TRUE(done.get());
    return facts;
  }

  test::TempDir temp_{"binding"};
  config::TlsConfig cfg_;
  std::shared_ptr<ServerContext> context_;
};

TEST_F(SessionBindingTest, DataConnectionsResumeTheirOwnControlConnectionsSession) {
  SessionBinding binding(context_);
  Client client;
  auto control = serve_one([&](Stream& s) { return binding.accept_control(s); }, client);
  ASSERT_TRUE(control);
  EXPECT_FALSE(control->resumed);
  EXPECT_NE(control->description.find("TLSv1.2"), std::string::npos) << control->description;
  EXPECT_TRUE(control->client_identities.empty());  // no client certificate

  auto data = serve_one([&](Stream& s) { return binding.accept_data(s); }, client);
  ASSERT_TRUE(data);
  EXPECT_TRUE(data->resumed);
  EXPECT_NE(data->description.find("(resumed session)"), std::string::npos) << data->description;
}

// SECURITY: a session of one control connection offered on another session's data connection is not
// resumed (the session id contexts differ): the reuse check then refuses that data connection.
TEST_F(SessionBindingTest, AnotherSessionsTlsSessionIsNotResumed) {
  SessionBinding owner(context_);
  SessionBinding other(context_);
  Client client;
  ASSERT_TRUE(serve_one([&](Stream& s) { return owner.accept_control(s); }, client));
  auto stolen = serve_one([&](Stream& s) { return other.accept_data(s); }, client);
  ASSERT_TRUE(stolen);
  EXPECT_FALSE(stolen->resumed);
}

TEST_F(SessionBindingTest, WithoutATlsConfigurationNothingIsAccepted) {
  SessionBinding none(nullptr);
  EXPECT_FALSE(none.configured());
  asio::io_context io;
  tcp::socket socket(io);
  Stream stream(std::move(socket));
  std::optional<std::error_code> result;
  asio::co_spawn(
      io, [&]() -> Task<void> { result = co_await none.accept_control(stream); }, asio::detached);
  io.run();
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, std::errc::protocol_not_supported);
  EXPECT_EQ(SessionBinding::describe(&stream), "plain text");
  EXPECT_EQ(SessionBinding::describe(nullptr), "plain text");  // a control connection without a stream
  SessionBinding::issue_ticket(&stream);                       // nothing to do without TLS
  SessionBinding::issue_ticket(nullptr);
}

// TLS 1.3: after a protected transfer the control connection gets one ticket more than its handshake
// gave; a data connection gets none (the server never writes on an upload's connection on its own).
TEST_F(SessionBindingTest, TicketsGoOnTheControlConnectionOnly) {
  // A new client for each connection: full handshakes only (a resumption gets fewer tickets).
  SessionBinding binding(context_);
  Client plain(TLS1_3_VERSION);
  auto control = serve_one([&](Stream& s) { return binding.accept_control(s); }, plain);
  ASSERT_TRUE(control);
  EXPECT_NE(control->description.find("TLSv1.3"), std::string::npos) << control->description;
  const int from_handshake = plain.tickets();
  EXPECT_GT(from_handshake, 0);

  auto issue = [&](Stream& s) -> Task<std::error_code> {
    auto ec = co_await binding.accept_control(s);
    if (!ec) SessionBinding::issue_ticket(&s);
    co_return ec;
  };
  Client issued(TLS1_3_VERSION);
  ASSERT_TRUE(serve_one(issue, issued));
  EXPECT_EQ(issued.tickets(), from_handshake + 1);

  Client data(TLS1_3_VERSION);
  ASSERT_TRUE(serve_one([&](Stream& s) { return binding.accept_data(s); }, data));
  EXPECT_EQ(data.tickets(), 0);
}

// RFC 7151 HOST: without SNI the certificate is chosen by the host hint the session set.
TEST_F(SessionBindingTest, TheHostHintChoosesTheCertificateWithoutSni) {
  const auto other_cert = temp_.path() / "other-cert.pem";
  const auto other_key = temp_.path() / "other-key.pem";
  ASSERT_TRUE(write_self_signed({"other.example.test"}, other_cert, other_key, 30));
  cfg_.certificates.push_back(
      {.certificate = other_cert, .private_key = other_key, .hosts = {"other.example.test"}});
  auto created = ServerContext::create(cfg_);
  ASSERT_TRUE(created) << created.error();

  // A new client for each connection: a resumed session would keep the first certificate.
  SessionBinding binding(*created);
  Client before;
  ASSERT_TRUE(serve_one([&](Stream& s) { return binding.accept_control(s); }, before));
  EXPECT_EQ(before.peer_name(), "ftp.example.test");  // no hint: the default certificate

  const std::string host = "other.example.test";
  binding.set_host_hint(&host);
  Client after;
  ASSERT_TRUE(serve_one([&](Stream& s) { return binding.accept_control(s); }, after));
  EXPECT_EQ(after.peer_name(), "other.example.test");
}

}  // namespace
}  // namespace ftpsd::tls
