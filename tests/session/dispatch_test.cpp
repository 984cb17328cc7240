// The control loop and the dispatcher: pipelined commands answered in order, the preconditions of the
// command table in their fixed order, lines that are not commands, the end of a session.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.hpp"

using ftpsd::test::SessionHarness;

TEST(Dispatch, PipelinedCommandsAreAnsweredInOrder) {
  SessionHarness h;
  auto c = h.connect();
  // One write: the server must run them one after the other and answer each in turn.
  c->send_raw(
      "USER alice\r\nPASS alice-secret\r\nPWD\r\nTYPE I\r\nSYST\r\nMKD d\r\nCWD "
      "d\r\nPWD\r\nCDUP\r\nNOOP\r\n");
  EXPECT_EQ(c->reply(), "331 Please specify the password.\r\n");
  EXPECT_EQ(c->reply(), "230 Login successful.\r\n");
  EXPECT_EQ(c->reply(), "257 \"/\" is the current directory\r\n");
  EXPECT_EQ(c->reply(), "200 Switching to Binary mode.\r\n");
  EXPECT_EQ(c->reply(), "215 UNIX Type: L8\r\n");
  EXPECT_EQ(c->reply(), "257 \"/d\" created\r\n");
  EXPECT_EQ(c->reply(), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(c->reply(), "257 \"/d\" is the current directory\r\n");
  EXPECT_EQ(c->reply(), "250 Directory successfully changed.\r\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_TRUE(c->silent()) << "one reply per command";
}

TEST(Dispatch, CommandsSplitAcrossWritesAndBareLineFeeds) {
  SessionHarness h;
  auto c = h.connect();
  c->send_raw("NO");
  EXPECT_TRUE(c->silent()) << "half a command is not a command";
  c->send_raw("OP\r");
  EXPECT_TRUE(c->silent());
  c->send_raw("\nNOOP\nSYST\r\n");  // a bare LF ends a line too
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_EQ(c->reply(), "215 UNIX Type: L8\r\n");
  EXPECT_TRUE(c->silent());
}

TEST(Dispatch, LoginIsCheckedFirstThenTheArgument) {
  SessionHarness h;
  auto c = h.connect();
  EXPECT_EQ(c->cmd("PWD", 530), "530 Please login with USER and PASS.\r\n");
  EXPECT_EQ(c->cmd("MKD", 530), "530 Please login with USER and PASS.\r\n");  // no argument either
  EXPECT_EQ(c->cmd("RETR x", 530), "530 Please login with USER and PASS.\r\n");
  EXPECT_EQ(c->cmd("USER", 501), "501 USER needs an argument.\r\n");
  // Commands anybody may send.
  c->cmd("NOOP", 200);
  c->cmd("SYST", 215);
  c->cmd("FEAT", 211);
}

TEST(Dispatch, ThenWritePermissionThenTheDataConnection) {
  SessionHarness h;
  auto c = h.connect();
  c->login("bob");                                                    // may only read
  EXPECT_EQ(c->cmd("DELE", 501), "501 DELE needs an argument.\r\n");  // the argument before the permission
  EXPECT_EQ(c->cmd("DELE f", 550), "550 Permission denied.\r\n");
  EXPECT_EQ(c->cmd("STOR f", 550),
            "550 Permission denied.\r\n");  // the permission before the data connection
  EXPECT_EQ(c->cmd("RNFR f", 550), "550 Permission denied.\r\n");
  EXPECT_EQ(c->cmd("RETR", 501), "501 RETR needs an argument.\r\n");
  EXPECT_EQ(c->cmd("RETR f", 425), "425 Use PORT, EPRT, PASV or EPSV first.\r\n");
  EXPECT_EQ(c->cmd("LIST", 425), "425 Use PORT, EPRT, PASV or EPSV first.\r\n");
}

TEST(Dispatch, LinesThatAreNotCommands) {
  SessionHarness h;
  auto c = h.connect();
  c->send_raw("\r\n\r\n");
  EXPECT_TRUE(c->silent()) << "empty lines get no reply";
  EXPECT_EQ(c->cmd("FOO bar", 500), "500 Unknown command FOO.\r\n");
  EXPECT_EQ(c->cmd(std::string("NOOP a\x01"
                               "b"),
                   501),
            "501 Control characters are not allowed in arguments.\r\n");
  // A line over the limit: one reply, and the session goes on with the next line.
  c->send_raw(std::string(5000, 'A') + "\r\nNOOP\r\n");
  EXPECT_EQ(c->reply(), "500 Command line too long.\r\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_TRUE(c->silent());
}

TEST(Dispatch, ALineOverTheLimitGetsOneReply) {
  SessionHarness h;
  auto c = h.connect();
  c->send_raw("USER " + std::string(10'000, 'u') + "\r\n");  // before the login too
  EXPECT_EQ(c->reply(), "500 Command line too long.\r\n");
  c->login();
  for (const std::size_t length : {std::size_t{4097}, std::size_t{5000}, std::size_t{100'000}}) {
    c->send_raw("NOOP " + std::string(length - 5, 'x') + "\r\n");
    EXPECT_EQ(c->reply(), "500 Command line too long.\r\n") << length;
    EXPECT_TRUE(c->silent()) << length << ": one reply for one long line";
    c->cmd("NOOP", 200);
    c->cmd("PWD", 257);
  }
}

TEST(Dispatch, ALineOfTheLimitIsACommand) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  // 4096 bytes: parsed and run (no such file, or a name too long for the file system).
  c->send("SIZE " + std::string(4096 - 5, 'n'));
  const auto r = c->reply();
  EXPECT_TRUE(r.starts_with("550 ") || r.starts_with("553 ")) << r;
  // Its CR and its LF in two pieces.
  c->send_raw("NOOP " + std::string(4091, 'x') + "\r");
  EXPECT_TRUE(c->silent());
  c->send_raw("\n");
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  c->send_raw("NOOP " + std::string(4092, 'x') + "\r");  // 4097 bytes: too long however it arrives
  EXPECT_TRUE(c->silent());
  c->send_raw("\n");
  EXPECT_EQ(c->reply(), "500 Command line too long.\r\n");
  c->cmd("NOOP", 200);
}

TEST(Dispatch, ControlCharactersInArgumentsAre501) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  using namespace std::string_literals;
  for (const auto& line : {"CWD a\0b"s, "RETR \x01x"s, "MKD a\tb"s, "DELE x\x7f"s, "USER al\x1bice"s,
                           "STOR \0"s, "SIZE x\ry"s}) {
    c->send_raw(line + "\r\n");
    EXPECT_EQ(c->reply(), "501 Control characters are not allowed in arguments.\r\n") << line;
    EXPECT_TRUE(c->silent()) << line;
    c->cmd("NOOP", 200);
  }
  EXPECT_TRUE(std::filesystem::is_empty(h.root())) << "none of them ran";
  c->send_raw(std::string("NO\0OP\r\n", 7));  // in the verb: not a command at all
  EXPECT_TRUE(c->reply().starts_with("500 Unknown command"));
  c->cmd("NOOP", 200);
}

TEST(Dispatch, TelnetCommandsBeforeACommandAreIgnored) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  c->send_raw("\xff\xf4\xff\xf2NOOP\r\n");  // IAC IP, IAC DM (RFC 959 4.1.3)
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  c->send_raw("\xff\xfb\x01NOOP\r\n");  // IAC WILL ECHO: an option negotiation is three bytes
  EXPECT_EQ(c->reply(), "200 NOOP ok.\r\n");
  EXPECT_TRUE(c->silent());
}

TEST(Dispatch, QuitAnswersThenCloses) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  c->send_raw("QUIT\r\nNOOP\r\n");
  EXPECT_EQ(c->reply(), "221 Goodbye.\r\n");
  EXPECT_TRUE(c->closed());
  EXPECT_TRUE(c->end().server_gone());
  EXPECT_EQ(c->end().pending(), "") << "nothing after QUIT";
  EXPECT_TRUE(h.logged("disconnected"));
}

TEST(Dispatch, AClientThatClosesEndsItsSession) {
  SessionHarness h;
  auto c = h.connect();
  c->login();
  c->close();
  h.run_until_idle();
  EXPECT_TRUE(c->end().server_gone());
  EXPECT_TRUE(h.logged("disconnected"));
}

TEST(Dispatch, SessionsAreIndependent) {
  SessionHarness h;
  auto a = h.connect();
  auto b = h.connect();
  a->login();
  b->cmd("PWD", 530);  // a's login is a's only
  a->cmd("MKD only-a", 257);
  b->login("bob");
  EXPECT_EQ(b->cmd("CWD only-a", 550).substr(0, 4), "550 ");  // bob's root is another folder
  a->cmd("CWD only-a", 250);
  EXPECT_EQ(b->cmd("PWD", 257), "257 \"/\" is the current directory\r\n");
}
