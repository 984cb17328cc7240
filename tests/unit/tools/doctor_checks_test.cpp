#include "tools/doctor_checks.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace ftpsd::tools;

TEST(DoctorUrl, Forms) {
  auto a = parse_doctor_url("ftps://alice@ftp.example.test", false);
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->user, "alice");
  EXPECT_EQ(a->host, "ftp.example.test");
  EXPECT_EQ(a->port, 21);
  EXPECT_EQ(a->tls, DoctorTls::kExplicit);
  auto b = parse_doctor_url("ftps://bob@198.51.100.1:2990/", true);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->port, 2990);
  EXPECT_EQ(b->tls, DoctorTls::kImplicit);
  EXPECT_EQ(parse_doctor_url("ftps://bob@host", true)->port, 990);
  auto c = parse_doctor_url("ftp://u@[2001:db8::1]:2121", false);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "2001:db8::1");
  EXPECT_EQ(c->tls, DoctorTls::kNone);
  auto d = parse_doctor_url("ftp://me.name@example.org@host:21", false);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->user, "me.name@example.org");
}

TEST(DoctorUrl, Errors) {
  EXPECT_FALSE(parse_doctor_url("http://a@b", false));
  EXPECT_FALSE(parse_doctor_url("ftp://host", false));
  EXPECT_FALSE(parse_doctor_url("ftp://a:secret@host", false));
  EXPECT_FALSE(parse_doctor_url("ftp://a@host:0", false));
  EXPECT_FALSE(parse_doctor_url("ftp://a@host:99999", false));
  EXPECT_FALSE(parse_doctor_url("ftp://a@host", true));
}

TEST(DoctorReplies, Parse227And229) {
  auto p = parse_227("Entering Passive Mode (10,0,0,2,195,80).");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->address, "10.0.0.2");
  EXPECT_EQ(p->port, 195 * 256 + 80);
  EXPECT_FALSE(parse_227("Entering Passive Mode"));
  EXPECT_FALSE(parse_227("(1,2,3)"));
  EXPECT_EQ(parse_229("Entering Extended Passive Mode (|||50001|)"), 50001);
  EXPECT_FALSE(parse_229("Entering Extended Passive Mode (|||x|)"));
  EXPECT_FALSE(parse_229("(|||0|)"));
}

TEST(DoctorVerdicts, PrivatePasvAddressFromAPublicServerFailsWithTheKeyToSet) {
  const auto r = judge_pasv_address("10.0.0.2", "198.51.100.1");
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_NE(r.detail.find("private"), std::string::npos);
  EXPECT_NE(r.fix.find("passive.address = \"198.51.100.1\""), std::string::npos);
  EXPECT_EQ(judge_pasv_address("198.51.100.1", "198.51.100.1").verdict, Verdict::kPass);
  EXPECT_EQ(judge_pasv_address("10.0.0.2", "10.0.0.2").verdict, Verdict::kPass);
  EXPECT_EQ(judge_pasv_address("203.0.113.5", "198.51.100.1").verdict, Verdict::kWarn);
}

TEST(DoctorVerdicts, Format) {
  EXPECT_EQ(format_step("login", {Verdict::kPass, "230", ""}), "[PASS] login: 230\n");
  EXPECT_EQ(format_step("PASV", {Verdict::kFail, "x", "set y"}), "[FAIL] PASV: x\n       fix: set y\n");
}

TEST(DoctorHost, NamesAreNotIpLiterals) {
  EXPECT_TRUE(is_host_name("ftp.example.test"));
  EXPECT_TRUE(is_host_name("localhost"));
  EXPECT_FALSE(is_host_name("198.51.100.1"));
  EXPECT_FALSE(is_host_name("2001:db8::1"));
}

TEST(DoctorHost, Replies) {
  const auto ok = judge_host_reply("ftp.acme.example", 220, "220 Acme FTP ready.");
  EXPECT_EQ(ok.verdict, Verdict::kPass);
  EXPECT_EQ(ok.detail, "220 Acme FTP ready.");
  for (const int code : {500, 502}) {
    const auto old = judge_host_reply("ftp.acme.example", code, std::to_string(code) + " Unknown command.");
    EXPECT_EQ(old.verdict, Verdict::kWarn) << code;
    EXPECT_NE(old.detail.find("does not know HOST"), std::string::npos) << old.detail;
    EXPECT_NE(old.fix.find("cannot tell domains apart by name"), std::string::npos) << old.fix;
  }
  for (const int code : {504, 503, 530}) {
    const auto none = judge_host_reply("ftp.acme.example", code, std::to_string(code) + " No such host.");
    EXPECT_EQ(none.verdict, Verdict::kFail) << code;
    EXPECT_EQ(none.detail,
              fmt::format("the server serves no domain named ftp.acme.example: {} No such host.", code));
    EXPECT_NE(none.fix.find("\"ftp.acme.example\""), std::string::npos) << none.fix;
  }
}

TEST(DoctorCertificate, NameMatching) {
  EXPECT_TRUE(certificate_name_matches("ftp.acme.example", "ftp.acme.example"));
  EXPECT_TRUE(certificate_name_matches("FTP.Acme.Example", "ftp.acme.EXAMPLE"));
  EXPECT_TRUE(certificate_name_matches("ftp.acme.example", "ftp.acme.example."));
  EXPECT_TRUE(certificate_name_matches("*.acme.example", "ftp.acme.example"));
  EXPECT_TRUE(certificate_name_matches("*.ACME.example", "Ftp.acme.example"));
  EXPECT_FALSE(certificate_name_matches("*.acme.example", "acme.example")) << "one label, not none";
  EXPECT_FALSE(certificate_name_matches("*.acme.example", "a.ftp.acme.example")) << "one label, not two";
  EXPECT_FALSE(certificate_name_matches("*.example", "acme.example"))
      << "no wildcard for a whole top-level domain";
  EXPECT_FALSE(certificate_name_matches("f*.acme.example", "ftp.acme.example")) << "only a whole label";
  EXPECT_FALSE(certificate_name_matches("ftp.acme.example", "ftp.beta.example"));
  EXPECT_FALSE(certificate_name_matches("ftp.acme.example", "ftp.acme.example.evil"));
  EXPECT_FALSE(certificate_name_matches("", "ftp.acme.example"));
  EXPECT_TRUE(certificate_covers({"acme.example", "*.acme.example"}, "ftp.acme.example"));
  EXPECT_FALSE(certificate_covers({}, "ftp.acme.example"));
}

TEST(DoctorCertificate, AMismatchNamesBoth) {
  EXPECT_EQ(judge_certificate_names({"ftp.acme.example"}, "ftp.acme.example").verdict, Verdict::kPass);
  const auto r = judge_certificate_names({"ftp.beta.example", "*.beta.example"}, "ftp.acme.example");
  EXPECT_EQ(r.verdict, Verdict::kFail);
  EXPECT_EQ(r.detail,
            "the server's certificate is for ftp.beta.example, *.beta.example, not ftp.acme.example");
  EXPECT_NE(r.fix.find("tls.certificate of its [[domains]] entry"), std::string::npos) << r.fix;
}
