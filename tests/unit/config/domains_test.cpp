// [[domains]]: inheritance from the top level, and the errors check-config reports with file and line.
#include <gtest/gtest.h>

#include "config/load_text.hpp"
#include "config/loader.hpp"

using namespace ftpsd::config;
using namespace ftpsd::config::test_support;

namespace {
constexpr std::string_view kTop = R"([[listeners]]
address = "127.0.0.1:2121"
[server]
banner = "Top"
[passive]
address = "198.51.100.1"
ports = "50000-50009"
advertised_ports = "60000-60009"
[users]
file = "users.toml"
[tls]
certificate = "top.pem"
private_key = "top.key"
required = "login"
[[tls.certificates]]
certificate = "rsa.pem"
private_key = "rsa.key"
[limits]
download_rate = "1M"
)";
}  // namespace

TEST(ConfigDomains, ADomainInheritsWhatItDoesNotSet) {
  auto c = load(std::string(kTop) + R"([[domains]]
name = "acme"
hosts = ["FTP.Acme.example", "acme.example"]
)");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->domains.size(), 1u);
  const auto& d = c->domains[0];
  EXPECT_EQ(d.name, "acme");
  EXPECT_EQ(d.hosts, (std::vector<std::string>{"ftp.acme.example", "acme.example"}));
  EXPECT_EQ(d.banner, "Top");
  EXPECT_EQ(d.users.file, "/base/users.toml");
  EXPECT_EQ(d.passive.address, "198.51.100.1");
  EXPECT_EQ(d.passive.ports->first, 50000);
  EXPECT_EQ(d.passive.advertised_ports->first, 60000);
  EXPECT_FALSE(d.own_ports);
  EXPECT_EQ(d.tls.certificate, "/base/top.pem");
  EXPECT_EQ(d.tls.certificates.size(), 1u);
  EXPECT_FALSE(d.own_certificate);
  EXPECT_EQ(d.tls.required, TlsRequired::kLogin);
  EXPECT_EQ(d.limits.download_rate, 1024u * 1024);
}

TEST(ConfigDomains, WhatADomainWritesReplacesWhatItInherits) {
  auto c = load(std::string(kTop) + R"([[domains]]
name = "acme"
users = "acme-users.toml"
banner = "ACME file exchange"
[domains.passive]
address = "203.0.113.7"
ports = "51000-51099"
[domains.tls]
certificate = "acme.pem"
private_key = "acme.key"
session_reuse = "report"
[domains.limits]
upload_rate = "2M"
[[domains]]
name = "globex_2"
[domains.users]
file = "globex.toml"
anonymous = true
anonymous_root = "pub"
)");
  ASSERT_TRUE(c) << c.error().message;
  const auto& acme = c->domains.at(0);
  EXPECT_EQ(acme.banner, "ACME file exchange");
  EXPECT_EQ(acme.users.file, "/base/acme-users.toml");
  EXPECT_EQ(acme.passive.address, "203.0.113.7");
  EXPECT_EQ(acme.passive.ports->first, 51000);
  EXPECT_FALSE(acme.passive.advertised_ports) << "the default's advertised ports belong to its range";
  EXPECT_TRUE(acme.own_ports);
  EXPECT_EQ(acme.tls.certificate, "/base/acme.pem");
  EXPECT_TRUE(acme.tls.certificates.empty()) << "the default's extra pairs are not acme's";
  EXPECT_TRUE(acme.own_certificate);
  EXPECT_EQ(acme.tls.session_reuse, SessionReuse::kReport);
  EXPECT_EQ(acme.tls.required, TlsRequired::kLogin);
  EXPECT_EQ(acme.limits.upload_rate, 2u * 1024 * 1024);
  EXPECT_EQ(acme.limits.download_rate, 1024u * 1024);
  const auto& globex = c->domains.at(1);
  EXPECT_EQ(globex.users.file, "/base/globex.toml");
  EXPECT_TRUE(globex.users.anonymous);
  EXPECT_EQ(globex.users.anonymous_root, "/base/pub");

  const Config view = c->for_domain(acme);
  EXPECT_EQ(view.server.banner, "ACME file exchange");
  EXPECT_EQ(view.passive.ports->first, 51000);
  EXPECT_EQ(view.tls.certificate, "/base/acme.pem");
  EXPECT_TRUE(view.domains.empty());
  EXPECT_EQ(c->default_domain().name, "default");
  EXPECT_EQ(c->default_domain().passive.ports->first, 50000);
}

TEST(ConfigDomains, NamesAndHostsAreCheckedAndUnique) {
  EXPECT_EQ(error_of(std::string(kTop) + "[[domains]]\nhosts = [\"a.example\"]\n"),
            "test.toml:20: key 'domains[0].name': every [[domains]] entry needs a name");
  EXPECT_EQ(error_of(std::string(kTop) + "[[domains]]\nname = \"a b\"\n"),
            "test.toml:21: key 'domains[0].name': expected letters, digits, '-' and '_' (at most 64)");
  EXPECT_EQ(
      error_of(std::string(kTop) + "[[domains]]\nname = \"default\"\n"),
      "test.toml:21: key 'domains[0].name': \"default\" is the top-level settings' domain; choose another "
      "name");
  EXPECT_EQ(error_of(std::string(kTop) + "[[domains]]\nname = \"a\"\nhosts = [\"a..example\"]\n"),
            "test.toml:22: key 'domains[0].hosts': expected host names such as \"ftp.example.com\"");
  EXPECT_EQ(
      error_of(std::string(kTop) + "[[domains]]\nname = \"a\"\n[[domains]]\nname = \"a\"\n"),
      "test.toml:23: key 'domains[1].name': the name 'a' is already the name of domains[0].name (line 21)");
  EXPECT_EQ(error_of(std::string(kTop) + "[[domains]]\nname = \"a\"\nhosts = [\"x.example\"]\n[[domains]]\n"
                                         "name = \"b\"\nhosts = [\"X.example\"]\n"),
            "test.toml:25: key 'domains[1].hosts': the host 'x.example' already belongs to domain 'a' "
            "(domains[0].hosts, line 22)");
  EXPECT_EQ(
      error_of(std::string(kTop) + "[[domains]]\nname = \"a\"\nusers = 3\n"),
      "test.toml:22: key 'domains[0].users': expected the users file's name, or a table with the keys of "
      "[users]");
  EXPECT_EQ(error_of(std::string(kTop) + "[[domains]]\nname = \"a\"\ncolour = \"red\"\n"),
            "test.toml:22: key 'domains[0].colour': unknown key");
  EXPECT_EQ(
      error_of(std::string(kTop) + "[[domains]]\nname = \"a\"\n[domains.tls]\ncertificate = \"a.pem\"\n"),
      "test.toml:22: key 'domains[0].tls.private_key': a domain's certificate and private_key go together");
}

TEST(ConfigDomains, ListenersNameKnownDomains) {
  const std::string text = R"([[listeners]]
address = "127.0.0.1:2121"
domain = "acme"
[[listeners]]
address = "127.0.0.1:2122"
domain = "nobody"
[[domains]]
name = "acme"
)";
  EXPECT_EQ(
      error_of(text),
      "test.toml:6: key 'listeners[1].domain': no domain is named 'nobody' (the domains: default, acme)");
  auto ok = load(R"([[listeners]]
address = "127.0.0.1:2121"
domain = "acme"
[[listeners]]
address = "127.0.0.1:2122"
domain = "default"
[[domains]]
name = "acme"
)");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->listeners[0].domain, "acme");
  EXPECT_EQ(error_of(R"([[listeners]]
address = "127.0.0.1:990"
tls = "implicit"
domain = "acme"
[[domains]]
name = "acme"
)"),
            "test.toml:3: key 'listeners[0].tls': a TLS listener needs a certificate for domain 'acme'");
}

TEST(ConfigDomains, OverlappingPortRangesOnOneAddressAreAnError) {
  EXPECT_EQ(
      error_of(std::string(kTop) + R"([[domains]]
name = "acme"
[domains.passive]
ports = "50005-50020"
)"),
      "test.toml:23: key 'domains[0].passive.ports': the range 50005-50020 overlaps 50000-50009 of domain "
      "'default' (passive.ports, line 7) on the same server address; give each domain its own ports (a "
      "domain without passive.ports shares the default's)");
  EXPECT_EQ(
      error_of(std::string(kTop) + R"([[domains]]
name = "acme"
[domains.passive]
ports = "51000-51099"
[[domains]]
name = "globex"
[domains.passive]
ports = "51099"
)"),
      "test.toml:27: key 'domains[1].passive.ports': the range 51099-51099 overlaps 51000-51099 of domain "
      "'acme' (domains[0].passive.ports, line 23) on the same server address; give each domain its own "
      "ports (a domain without passive.ports shares the default's)");
  // Inherited ports are the default's pool, not an overlap; domains on their own addresses may share.
  EXPECT_TRUE(load(std::string(kTop) + "[[domains]]\nname = \"acme\"\n"));
  auto apart = load(R"([[listeners]]
address = "127.0.0.2:21"
domain = "acme"
[[listeners]]
address = "127.0.0.3:21"
domain = "globex"
[[domains]]
name = "acme"
passive.ports = "50000-50099"
[[domains]]
name = "globex"
passive.ports = "50000-50099"
)");
  EXPECT_TRUE(apart) << apart.error().message;
  EXPECT_NE(error_of(R"([[listeners]]
address = "0.0.0.0:21"
domain = "acme"
[[listeners]]
address = "127.0.0.3:21"
domain = "globex"
[[domains]]
name = "acme"
passive.ports = "50000-50099"
[[domains]]
name = "globex"
passive.ports = "50050-50149"
)")
                .find("overlaps 50000-50099 of domain 'acme'"),
            std::string::npos);
}
