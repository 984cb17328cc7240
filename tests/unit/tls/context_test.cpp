#include "tls/context.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

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

// Each error names the file, the key that names it, and why: missing, not PEM, or not the pair.
TEST_F(TlsContextTest, ErrorsNameTheFileAndWhy) {
  const auto cert = cfg_.certificate.string();
  const auto key = cfg_.private_key.string();
  auto missing = tls::ServerContext::create(cfg_);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            cert + ": cannot read the certificate (tls.certificate): No such file or directory");

  ASSERT_TRUE(tls::write_self_signed({"a.test"}, cfg_.certificate, cfg_.private_key, 30));
  const auto other_key = dir_ / "other.pem";
  ASSERT_TRUE(tls::write_self_signed({"b.test"}, dir_ / "other-cert.pem", other_key, 30));
  auto mismatch_cfg = cfg_;
  mismatch_cfg.private_key = other_key;
  auto mismatch = tls::ServerContext::create(mismatch_cfg);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error(), other_key.string() + ": the private key does not match the certificate " +
                                  cert + " (tls.private_key)");

  auto no_key = cfg_;
  no_key.private_key = dir_ / "absent-key.pem";
  EXPECT_EQ(tls::ServerContext::create(no_key).error(),
            (dir_ / "absent-key.pem").string() +
                ": cannot read the private key (tls.private_key): No such file or directory");

  const auto garbage = dir_ / "garbage.pem";
  { std::ofstream(garbage) << "not a certificate\n"; }
  auto bad_cert = cfg_;
  bad_cert.certificate = garbage;
  const auto bad_cert_error = tls::ServerContext::create(bad_cert).error();
  EXPECT_TRUE(
      bad_cert_error.starts_with(garbage.string() + ": not a PEM certificate chain (tls.certificate): "))
      << bad_cert_error;
  auto bad_key = cfg_;
  bad_key.private_key = garbage;
  const auto bad_key_error = tls::ServerContext::create(bad_key).error();
  EXPECT_TRUE(bad_key_error.starts_with(garbage.string() + ": not a PEM private key (tls.private_key): "))
      << bad_key_error;

  // The pairs of [[tls.certificates]] are named by their entry.
  auto extra = cfg_;
  extra.certificates.push_back({.certificate = dir_ / "other-cert.pem", .private_key = key, .hosts = {}});
  EXPECT_EQ(tls::ServerContext::create(extra).error(),
            key + ": the private key does not match the certificate " + (dir_ / "other-cert.pem").string() +
                " (tls.certificates[0].private_key)");

  auto bad_ciphers = cfg_;
  bad_ciphers.ciphers = "NOT-A-CIPHER";
  EXPECT_NE(tls::ServerContext::create(bad_ciphers).error().find("tls.ciphers"), std::string::npos);
}

TEST(SelfSigned, NeedsAHost) {
  EXPECT_FALSE(tls::write_self_signed({}, "/tmp/x.pem", "/tmp/y.pem", 1));
}
