// inspect_certificate and check_pair: what a PEM certificate says, and why a pair cannot be served.
#include "tls/certificate_info.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_dir.hpp"
#include "tls/self_signed.hpp"

using namespace ftpsd;
using namespace std::chrono_literals;

namespace {

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Pair {
  std::string certificate;
  std::string key;
};

Pair self_signed(const test::TempDir& dir, const std::string& name, int days = 30) {
  const auto cert = dir.path() / (name + ".pem");
  const auto key = dir.path() / (name + ".key");
  EXPECT_TRUE(tls::write_self_signed({name, "192.0.2.1"}, cert, key, days));
  return {read(cert), read(key)};
}

}  // namespace

TEST(CertificateInfo, SaysSubjectNamesValidityAndKey) {
  const test::TempDir dir("cert-info");
  const auto pair = self_signed(dir, "ftp.example.test");
  const auto info = tls::inspect_certificate(pair.certificate);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->subject, "CN=ftp.example.test");
  EXPECT_EQ(info->issuer, "CN=ftp.example.test");
  EXPECT_EQ(info->names, (std::vector<std::string>{"ftp.example.test", "192.0.2.1"}));
  EXPECT_EQ(info->key_type, "EC");
  EXPECT_EQ(info->key_bits, 256);
  EXPECT_EQ(info->chain, 1U);
  EXPECT_FALSE(info->serial.empty());
  EXPECT_NE(info->serial.front(), '0');
  const auto left = info->not_after - std::chrono::system_clock::now();
  EXPECT_GT(left, 29 * 24h);
  EXPECT_LE(left, 31 * 24h);
  // A chain: the first certificate is the one described, the count says how many.
  const auto other = self_signed(dir, "ca.example.test");
  const auto chain = tls::inspect_certificate(pair.certificate + other.certificate);
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->subject, "CN=ftp.example.test");
  EXPECT_EQ(chain->chain, 2U);
  EXPECT_FALSE(tls::inspect_certificate("hello"));
  EXPECT_FALSE(tls::inspect_certificate(pair.key));
}

TEST(CertificateInfo, CheckPairNamesTheFieldAtFault) {
  const test::TempDir dir("cert-pair");
  const auto a = self_signed(dir, "a.example.test");
  const auto b = self_signed(dir, "b.example.test");
  const auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(tls::check_pair(a.certificate, a.key, now));
  EXPECT_FALSE(tls::check_pair(a.certificate + b.certificate, a.key, now)) << "a chain is accepted";
  using Field = tls::PairProblem::Field;
  const auto expect = [&](std::string_view cert, std::string_view key,
                          std::chrono::system_clock::time_point at, Field field, std::string_view message) {
    const auto problem = tls::check_pair(cert, key, at);
    ASSERT_TRUE(problem);
    EXPECT_EQ(problem->field, field);
    EXPECT_EQ(problem->message, message);
  };
  expect("x", a.key, now, Field::kCertificate, "'certificate' is not a PEM certificate");
  expect(a.certificate, "x", now, Field::kPrivateKey,
         "'private_key' is not a PEM private key (an encrypted key is not accepted)");
  expect(a.certificate, b.key, now, Field::kPrivateKey, "'private_key' does not belong to the certificate");
  const auto info = tls::inspect_certificate(a.certificate);
  ASSERT_TRUE(info);
  const auto after = info->not_after + 1s;
  const auto problem = tls::check_pair(a.certificate, a.key, after);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, Field::kCertificate);
  EXPECT_TRUE(problem->message.starts_with("'certificate' expired on 20")) << problem->message;
  const auto before = tls::check_pair(a.certificate, a.key, info->not_before - 1s);
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->message.starts_with("'certificate' is not valid before 20")) << before->message;
}
