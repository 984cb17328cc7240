#include "protocol/command.hpp"

#include <gtest/gtest.h>

using namespace ftpsd::protocol;

TEST(ParseCommand, VerbIsCaseInsensitiveAndArgumentKeptVerbatim) {
  auto c = parse_command("stor  my file .txt ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, Verb::kStor);
  EXPECT_EQ(c->argument, " my file .txt ");
}

TEST(ParseCommand, NoArgument) {
  auto c = parse_command("PWD");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, Verb::kPwd);
  EXPECT_TRUE(c->argument.empty());
}

TEST(ParseCommand, UnknownAndEmpty) {
  EXPECT_EQ(parse_command("XYZZY").error(), ParseError::kUnknownVerb);
  EXPECT_EQ(parse_command("FOO bar").error(), ParseError::kUnknownVerb);
  EXPECT_EQ(parse_command("").error(), ParseError::kEmpty);
  EXPECT_EQ(parse_command(" PWD").error(), ParseError::kUnknownVerb);
}

TEST(ParseCommand, ControlCharactersInArgumentAreRefused) {
  using namespace std::string_literals;
  EXPECT_EQ(parse_command("RETR a\0b"s).error(), ParseError::kControlCharacter);
  EXPECT_EQ(parse_command("RETR a\x01"s).error(), ParseError::kControlCharacter);
  EXPECT_EQ(parse_command("RETR a\x7f"s).error(), ParseError::kControlCharacter);
  EXPECT_TRUE(parse_command("RETR \xc3\xa9t\xc3\xa9.txt"));  // UTF-8 is fine
}

TEST(ParseCommand, EveryVerbNameRoundTrips) {
  for (int i = 0; i < static_cast<int>(Verb::kCount); ++i) {
    const auto v = static_cast<Verb>(i);
    auto c = parse_command(std::string(verb_name(v)));
    ASSERT_TRUE(c) << verb_name(v);
    EXPECT_EQ(c->verb, v);
  }
}

TEST(VerbOf, UppercasesAndBounds) {
  EXPECT_EQ(verb_of("xyzzy plugh"), "XYZZY");
  EXPECT_EQ(verb_of(std::string(100, 'a')).size(), 16u);
}
