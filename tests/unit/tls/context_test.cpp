#include "tls/context.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "test_dir.hpp"
#include "tls/self_signed.hpp"

namespace fs = std::filesystem;
using namespace ftpsd;

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.certificate = dir_ / "cert.pem";
    cfg_.private_key = dir_ / "key.pem";
  }
  test::TempDir temp_{"tls"};
  const fs::path dir_ = temp_.path();
  config::TlsConfig cfg_;
};

TEST_F(TlsContextTest, SelfSignedCertificateLoads) {
  ASSERT_TRUE(
      tls::write_self_signed({"ftp.example.test", "192.0.2.1"}, cfg_.certificate, cfg_.private_key, 30));
  struct stat st {};
  ASSERT_EQ(::stat(cfg_.private_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // the key is private
  auto ctx = tls::ServerContext::create(cfg_);
  ASSERT_TRUE(ctx) << ctx.error();
  EXPECT_NE((*ctx)->description().find("CN=ftp.example.test"), std::string::npos) << (*ctx)->description();
  EXPECT_NE((*ctx)->description().find("EC 256"), std::string::npos) << (*ctx)->description();
}

TEST_F(TlsContextTest, ErrorsNameTheFile) {
  auto missing = tls::ServerContext::create(cfg_);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cert.pem: cannot load the certificate chain"), std::string::npos)
      << missing.error();

  ASSERT_TRUE(tls::write_self_signed({"a.test"}, cfg_.certificate, cfg_.private_key, 30));
  const auto other_key = dir_ / "other.pem";
  ASSERT_TRUE(tls::write_self_signed({"b.test"}, dir_ / "other-cert.pem", other_key, 30));
  auto mismatch_cfg = cfg_;
  mismatch_cfg.private_key = other_key;
  auto mismatch = tls::ServerContext::create(mismatch_cfg);
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("does not match"), std::string::npos) << mismatch.error();

  auto bad_ciphers = cfg_;
  bad_ciphers.ciphers = "NOT-A-CIPHER";
  EXPECT_NE(tls::ServerContext::create(bad_ciphers).error().find("tls.ciphers"), std::string::npos);
}

TEST(SelfSigned, NeedsAHost) {
  EXPECT_FALSE(tls::write_self_signed({}, "/tmp/x.pem", "/tmp/y.pem", 1));
}
