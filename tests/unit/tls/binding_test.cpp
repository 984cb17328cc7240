#include "tls/binding.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <future>
#include <thread>

#include "test_dir.hpp"
#include "tls/self_signed.hpp"

namespace ftpsd::tls {
namespace {

using asio::ip::tcp;

// A blocking OpenSSL client on its own thread, limited to TLS 1.2 so that its session can be resumed
// right after the handshake (TLS 1.3 tickets arrive later, with the first read).
class Client {
 public:
  Client() : ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_set_max_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  ~Client() {
    if (session_ != nullptr) SSL_SESSION_free(session_);
    SSL_CTX_free(ctx_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects, does the handshake (offering the remembered session, if any) and keeps the new one.
  bool handshake(std::uint16_t port) {
    asio::io_context io;
    tcp::socket socket(io);
    std::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return false;
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, socket.native_handle());
    if (session_ != nullptr) SSL_set_session(ssl, session_);
    const bool ok = SSL_connect(ssl) == 1;
    if (ok) {
      if (session_ != nullptr) SSL_SESSION_free(session_);
      session_ = SSL_get1_session(ssl);
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    return ok;
  }

 private:
  SSL_CTX* ctx_;
  SSL_SESSION* session_ = nullptr;
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
  // its own thread. Returns the facts of the server side, or nullopt if the handshake failed.
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
          if (auto ec = co_await accept(stream); !ec) facts = SessionBinding::facts(stream);
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
  EXPECT_EQ(SessionBinding::describe(stream), "plain text");
}

}  // namespace
}  // namespace ftpsd::tls
