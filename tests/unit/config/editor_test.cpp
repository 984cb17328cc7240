// edit_toml: only the lines of the keys that change; comments, order and layout stay.
#include "config/editor.hpp"

#include <gtest/gtest.h>

#include <vector>

using ftpsd::config::edit_toml;
using ftpsd::config::KeyEdit;
using ftpsd::config::toml_quote;
using ftpsd::config::typed_value;

namespace {

constexpr std::string_view kFile = R"(# ftpsd at ACME
[server]
banner = "héllo"   # what clients see first

[passive]
# the router's address
address = "198.51.100.1"
ports = "50000-50099"

[[domains]]
name = "acme"
passive.address = "203.0.113.7"

[domains.tls]
certificate = "acme.pem"

[[domains]]
name = "globex"
)";

std::string edited(std::string_view text, std::vector<KeyEdit> edits) {
  auto r = edit_toml(text, edits);
  EXPECT_TRUE(r) << r.error();
  return r ? *r : std::string();
}

std::string error_of(std::string_view text, std::vector<KeyEdit> edits) {
  auto r = edit_toml(text, edits);
  return r ? std::string("edited") : r.error();
}

// `text` with `from` replaced by `to` once (the whole expected result, written as a difference).
std::string with(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  const auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  out.replace(at, from.size(), to);
  return out;
}

}  // namespace

TEST(ConfigEditor, AnExistingValueIsReplacedInPlaceWithItsCommentAndLayout) {
  EXPECT_EQ(edited(kFile, {{"passive.address", "\"203.0.113.9\""}}),
            with(kFile, "address = \"198.51.100.1\"", "address = \"203.0.113.9\""));
  // after a multi-byte character on the same line, the columns are code points
  EXPECT_EQ(edited(kFile, {{"server.banner", "\"ACME\""}}), with(kFile, "\"héllo\"", "\"ACME\""));
  // in an array-of-tables entry, a key written with a dotted name
  EXPECT_EQ(edited(kFile, {{"domains[0].passive.address", "\"203.0.113.8\""}}),
            with(kFile, "\"203.0.113.7\"", "\"203.0.113.8\""));
}

TEST(ConfigEditor, ANewKeyGoesAfterTheLastKeyOfItsTable) {
  EXPECT_EQ(edited(kFile, {{"passive.resolve_every", "\"1m\""}}),
            with(kFile, "ports = \"50000-50099\"\n", "ports = \"50000-50099\"\nresolve_every = \"1m\"\n"));
  EXPECT_EQ(edited(kFile, {{"domains[1].banner", "\"Globex\""}}),
            with(kFile, "name = \"globex\"\n", "name = \"globex\"\nbanner = \"Globex\"\n"));
  // a table made by dotted keys gets a dotted key
  EXPECT_EQ(edited(kFile, {{"domains[0].passive.ports", "\"51000-51099\""}}),
            with(kFile, "passive.address = \"203.0.113.7\"\n",
                 "passive.address = \"203.0.113.7\"\npassive.ports = \"51000-51099\"\n"));
  // a [header] table's keys come before its [header] sub-tables
  EXPECT_EQ(edited(kFile, {{"domains[0].hosts", "[\"ftp.acme.example\"]"}}),
            with(kFile, "passive.address = \"203.0.113.7\"\n",
                 "passive.address = \"203.0.113.7\"\nhosts = [\"ftp.acme.example\"]\n"));
}

TEST(ConfigEditor, ANewTableGetsItsHeaderWhereItBelongs) {
  // at the end of its array-of-tables entry, before the next entry
  EXPECT_EQ(edited(kFile, {{"domains[1].limits.download_rate", "\"1M\""}}),
            std::string(kFile) + "\n[domains.limits]\ndownload_rate = \"1M\"\n");
  EXPECT_EQ(edited(kFile, {{"domains[0].limits.upload_rate", "\"2M\""}}),
            with(kFile, "certificate = \"acme.pem\"\n",
                 "certificate = \"acme.pem\"\n\n[domains.limits]\nupload_rate = \"2M\"\n"));
  // a top-level table at the end of the file
  EXPECT_EQ(edited(kFile, {{"limits.download_rate", "0"}}),
            std::string(kFile) + "\n[limits]\ndownload_rate = 0\n");
  // a key of the root before the first header
  EXPECT_EQ(edited("[server]\nthreads = 2\n", {{"title", "\"x\""}}),
            "title = \"x\"\n[server]\nthreads = 2\n");
}

TEST(ConfigEditor, RemovingAKeyRemovesItsLines) {
  EXPECT_EQ(edited(kFile, {{"passive.ports", std::nullopt}}), with(kFile, "ports = \"50000-50099\"\n", ""));
  const std::string multi = "[passive]\nports = [\n  1,\n  2]\naddress = \"a\"\n";
  EXPECT_EQ(edited(multi, {{"passive.ports", std::nullopt}}), "[passive]\naddress = \"a\"\n");
  EXPECT_EQ(edited(kFile, {{"passive.nothing", std::nullopt}}), kFile);  // nothing to remove
}

TEST(ConfigEditor, SeveralEditsApplyInOrder) {
  const auto out = edited(kFile, {{"passive.address", "\"203.0.113.9\""},
                                  {"passive.ports", "\"50000-50199\""},
                                  {"passive.advertised_ports", "\"60000-60199\""}});
  EXPECT_EQ(out, with(with(kFile, "address = \"198.51.100.1\"", "address = \"203.0.113.9\""),
                      "ports = \"50000-50099\"\n",
                      "ports = \"50000-50199\"\nadvertised_ports = \"60000-60199\"\n"));
}

TEST(ConfigEditor, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_of(kFile, {{"passive..x", "1"}}),
            "'passive..x': expected a key path such as \"domains[1].passive.ports\"");
  EXPECT_EQ(error_of(kFile, {{"domains[5].name", "\"x\""}}),
            "'domains[5].name': domains has no entry 5 (it has 2)");
  EXPECT_EQ(error_of(kFile, {{"users[0].name", "\"x\""}}),
            "'users[0].name': there is no users to change; add the [[users]] entry first");
  EXPECT_EQ(error_of(kFile, {{"server.banner.x", "1"}}), "'server.banner.x': banner is not a table");
  EXPECT_EQ(error_of(kFile, {{"passive", "1"}}), "'passive' is a table, not a key");
  EXPECT_EQ(error_of(kFile, {{"passive.address", "1.2.3.4"}}),
            "'passive.address': 1.2.3.4 is not one TOML value");
  EXPECT_EQ(error_of(kFile, {{"passive.address", "\"a\"\nx = 1"}}),
            "'passive.address': \"a\"\nx = 1 is not one TOML value");
  EXPECT_EQ(error_of("t = { a = 1 }\n", {{"t.b", "2"}}),
            "'t.b': t is an inline table { ... }; change it by hand");
  EXPECT_EQ(error_of("[server\n", {{"server.threads", "2"}}).substr(0, 7), "line 1:");
}

TEST(ConfigEditor, QuotesStringsAsTomlBasicStrings) {
  EXPECT_EQ(toml_quote("plain"), "\"plain\"");
  EXPECT_EQ(toml_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(toml_quote("tab\there"), "\"tab\\u0009here\"");
  EXPECT_EQ(edited(kFile, {{"server.banner", toml_quote("say \"hi\"")}}),
            with(kFile, "\"héllo\"", "\"say \\\"hi\\\"\""));
}

TEST(ConfigEditor, ATypedValueIsTomlWhenItIsOneTomlValueElseAString) {
  EXPECT_EQ(typed_value("4"), "4");
  EXPECT_EQ(typed_value("false"), "false");
  EXPECT_EQ(typed_value("[\"10.0.0.0/8\"]"), "[\"10.0.0.0/8\"]");
  EXPECT_EQ(typed_value("\"4\""), "\"4\"");
  EXPECT_EQ(typed_value("203.0.113.7"), "\"203.0.113.7\"");
  EXPECT_EQ(typed_value("50000-50099"), "\"50000-50099\"");
  EXPECT_EQ(typed_value("5m"), "\"5m\"");
  EXPECT_EQ(typed_value("a\nb = 1"), "\"a\\u000Ab = 1\"");
}

TEST(EditToml, AppendTableAddsAnEntryAtTheEndAndKeepsTheRest) {
  using ftpsd::config::append_table;
  const std::string text = "# users\n[[users]]\nname = \"a\"   # first\nroot = \"/a\"\n";
  const std::vector<KeyEdit> keys{
      {"name", R"("b")"}, {"root", R"("/b")"}, {"write", std::nullopt}, {"max_sessions", "2"}};
  auto out = append_table(text, "users", keys);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(*out, text + "\n[[users]]\nname = \"b\"\nroot = \"/b\"\nmax_sessions = 2\n");
  auto first = append_table("", "users", keys);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "[[users]]\nname = \"b\"\nroot = \"/b\"\nmax_sessions = 2\n");
  EXPECT_FALSE(append_table("users = 3\n", "users", keys));
  EXPECT_FALSE(append_table("users = [{name = \"a\"}]\n", "users", keys));
  const std::vector<KeyEdit> broken{{"name", "\"b\"\nroot = 1"}};
  EXPECT_FALSE(append_table(text, "users", broken));
}

TEST(EditToml, RemoveTableTakesOnlyThatEntrysLines) {
  using ftpsd::config::remove_table;
  const std::string a = "[[users]]\nname = \"a\"\nroot = \"/a\"\n";
  const std::string b = "[[users]]\nname = \"b\"  # bee\nroot = \"/b\"\n";
  const std::string c = "[[users]]\nname = \"c\"\nroot = \"/c\"\n";
  const std::string text = "# users\n\n" + a + "\n" + b + "\n" + c;
  auto middle = remove_table(text, "users", 1);
  ASSERT_TRUE(middle) << middle.error();
  EXPECT_EQ(*middle, "# users\n\n" + a + "\n" + c);
  auto last = remove_table(text, "users", 2);
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, "# users\n\n" + a + "\n" + b);
  auto first = remove_table(text, "users", 0);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "# users\n\n" + b + "\n" + c);
  EXPECT_FALSE(remove_table(text, "users", 3));
  EXPECT_FALSE(remove_table(text, "admins", 0));
}
