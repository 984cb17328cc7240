"""HELP, FEAT, SYST, OPTS, STAT, NOOP and the reply rules: multi-line replies as RFC 959 says, 500 for
unknown commands, 502 for known but unimplemented ones, case-insensitive verbs."""
import re

EXPECTED_FEATURES = {"EPRT", "EPSV", "HOST", "MDTM", "MFMT", "PASV", "REST STREAM", "SIZE", "TVFS", "UTF8"}


def multiline(reply: str, code: str) -> list[str]:
    lines = reply.split("\r\n")[:-1]
    assert lines[0].startswith(code + "-"), reply
    assert lines[-1].startswith(code + " "), reply
    for middle in lines[1:-1]:
        assert not re.match(r"^\d{3} ", middle), f"a middle line looks like the end: {middle!r}"
    return lines


def test_feat(ctl):
    lines = multiline(ctl.cmd("FEAT"), "211")
    features = [line[1:] for line in lines[1:-1]]
    assert all(line.startswith(" ") for line in lines[1:-1]), "RFC 2389: each feature line starts with a space"
    names = set(features)
    assert EXPECTED_FEATURES <= names, names
    mlst = [f for f in features if f.startswith("MLST ")]
    assert mlst and all(fact in mlst[0] for fact in ("type*", "size*", "modify*", "perm*", "unique*"))
    assert "AUTH TLS" not in names, "no TLS listener configured here"


def test_syst(ctl):
    assert ctl.cmd("SYST") == "215 UNIX Type: L8\r\n"


def test_opts(ctl):
    assert ctl.cmd("OPTS UTF8 ON").startswith("200")
    assert ctl.cmd("opts utf8 on").startswith("200")
    assert ctl.cmd("OPTS UTF8 OFF").startswith("504")
    assert ctl.cmd("OPTS MLST type;size;").startswith("200")
    assert ctl.cmd("OPTS NONSENSE").startswith("501")
    assert ctl.cmd("OPTS").startswith("501")


def test_help(ctl):
    lines = multiline(ctl.cmd("HELP"), "214")
    listed = set(" ".join(lines[1:-1]).split())
    for verb in ("USER", "PASS", "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD", "MLST", "EPSV", "EPRT",
                 "PASV", "PORT", "ABOR", "REST", "SIZE", "MDTM", "MFMT", "HOST", "SITE", "FEAT", "OPTS", "STAT",
                 "XMKD", "XPWD", "REIN", "QUIT"):
        assert verb in listed, verb
    assert ctl.cmd("HELP RETR").startswith("214")
    assert ctl.cmd("help stor").startswith("214")
    assert ctl.cmd("HELP FOO").startswith("501")


def test_stat_without_transfer(ctl):
    lines = multiline(ctl.cmd("STAT"), "211")
    text = "\n".join(lines)
    assert "127.0.0.1" in text and "alice" in text and "No data connection" in text


def test_unknown_and_unimplemented_commands(ctl):
    r = ctl.cmd("XYZZY")
    assert r.startswith("500") and "XYZZY" in r, r
    assert ctl.cmd("FOO bar").startswith("500")
    assert ctl.cmd("SMNT /").startswith(("502", "500"))
    r = ctl.cmd("CONF abc")  # RFC 2228, known but not implemented
    assert r.startswith("502") and "CONF" in r, r
    assert ctl.cmd("noop").startswith("200"), "verbs are case-insensitive"
    assert ctl.cmd("NoOp").startswith("200")
    assert ctl.cmd("pwd").startswith('257 "/"')


def test_empty_lines_are_ignored(ctl):
    ctl.send(b"\r\n\r\nNOOP\r\n")
    assert ctl.reply().startswith("200")
    assert ctl.silent_for(0.2)


def test_bare_lf_ends_a_command(ctl):
    ctl.send(b"NOOP\nPWD\n")
    assert ctl.reply().startswith("200")
    assert ctl.reply().startswith("257")


def test_pipelined_commands_answered_in_order(ctl):
    ctl.send(b"NOOP\r\nSYST\r\nPWD\r\nTYPE I\r\nFEAT\r\nNOOP\r\n")
    codes = [ctl.reply()[:3] for _ in range(6)]
    assert codes == ["200", "215", "257", "200", "211", "200"]
