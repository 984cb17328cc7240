"""FTPS: explicit and implicit TLS (RFC 4217) with real clients, and the security rules."""
import io
import os
import socket
import ssl
import subprocess

import ftplib
import pytest

from conftest import PASSWORDS
from helpers import Control, read_reply, send, wait_for
from tls_helpers import ReusingFTP_TLS, client_context, make_tls_server, tls_login  # noqa: F401 (fixture)


def test_feat_lists_tls_features(make_tls_server):
    srv = make_tls_server()
    ftp = ftplib.FTP()
    ftp.connect(srv.host, srv.port, timeout=10)
    feat = ftp.sendcmd("FEAT")
    for f in ("AUTH TLS", "PBSZ", "PROT"):
        assert f"\n {f}" in feat, feat
    assert " CCC" not in feat


def test_explicit_prot_p_round_trip_with_session_reuse(make_tls_server):
    srv = make_tls_server()
    ftp = tls_login(srv)
    data = os.urandom(3 * 1024 * 1024 + 17)
    ftp.storbinary("STOR f.bin", io.BytesIO(data))
    assert (srv.root() / "f.bin").read_bytes() == data
    out = io.BytesIO()
    ftp.retrbinary("RETR f.bin", out.write)
    assert out.getvalue() == data
    assert ftp.nlst() == ["f.bin"]
    status = ftp.sendcmd("STAT")
    assert "Control connection: TLSv1.3" in status, status
    assert "resumed session" in status, status
    ftp.quit()


def test_empty_file_and_empty_listing_close_cleanly(make_tls_server):
    srv = make_tls_server()
    ftp = tls_login(srv)
    ftp.mkd("empty")
    assert ftp.nlst("empty") == []
    ftp.storbinary("STOR zero", io.BytesIO(b""))
    out = io.BytesIO()
    ftp.retrbinary("RETR zero", out.write)
    assert out.getvalue() == b""
    assert (srv.root() / "zero").stat().st_size == 0
    ftp.quit()


def test_implicit_tls(make_tls_server):
    srv = make_tls_server()
    ctx = client_context()
    raw = socket.create_connection((srv.host, srv.implicit_port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    f = s.makefile("rb")
    assert read_reply(f).startswith("220")
    assert send(s, f, "USER alice").startswith("331")
    assert send(s, f, f"PASS {PASSWORDS['alice']}").startswith("230")
    assert "PROT P" in send(s, f, "STAT")


def test_plain_ftplib_refused_under_require_with_clear_reply(make_tls_server):
    srv = make_tls_server()  # session_reuse defaults to "require"
    ftp = tls_login(srv, cls=ftplib.FTP_TLS)  # full handshake on every data connection
    with pytest.raises(ftplib.error_perm) as refused:
        ftp.nlst()
    # The client reads what to do; the log names the setting that refused it.
    assert str(refused.value) == ("522 Data connection refused: TLS session of the control connection not "
                                  "resumed. Use a client that reuses TLS sessions."), refused.value
    ftp.sendcmd("NOOP")  # the session goes on
    assert wait_for(lambda: 'did not resume the control connection\'s TLS session; fix: a client that does not '
                            'reuse TLS sessions needs tls_session_reuse = "off" for its user or network '
                            '(tls.session_reuse = "require")' in srv.log())


def test_session_reuse_log_names_the_override_that_applies(make_tls_server):
    srv = make_tls_server(tls_extra='[[tls.session_reuse_overrides]]\nnetworks = ["127.0.0.0/8"]\n'
                                    'session_reuse = "report"',
                          user_options={"bob": 'tls_session_reuse = "require"'})
    ftp = tls_login(srv, cls=ftplib.FTP_TLS)
    assert ftp.nlst() == []
    assert wait_for(lambda: 'accepted because session_reuse = "report" ([[tls.session_reuse_overrides]] for '
                            '127.0.0.0/8)' in srv.log())
    bob = tls_login(srv, user="bob", cls=ftplib.FTP_TLS)
    with pytest.raises(ftplib.error_perm, match=r"^522 .*not resumed\. Use a client that reuses TLS sessions\.$"):
        bob.nlst()
    assert wait_for(lambda: '(tls_session_reuse = "require" (users file, user bob))' in srv.log())


def test_plain_ftplib_accepted_and_reported_under_report(make_tls_server):
    srv = make_tls_server(tls_extra='session_reuse = "report"')
    ftp = tls_login(srv, cls=ftplib.FTP_TLS)
    ftp.storbinary("STOR a", io.BytesIO(b"abc"))
    assert ftp.nlst() == ["a"]
    assert srv.log().count('accepted because tls.session_reuse = "report"') == 2


def test_per_user_session_reuse_override(make_tls_server):
    srv = make_tls_server()
    users = (srv.base / "users.toml").read_text()
    (srv.base / "users.toml").write_text(users.replace('name = "bob"', 'name = "bob"\ntls_session_reuse = "off"'))
    srv.stop()
    srv2 = make_tls_server()
    (srv2.base / "users.toml").write_text((srv2.base / "users.toml").read_text().replace(
        'name = "bob"', 'name = "bob"\ntls_session_reuse = "off"'))
    # users are read at start: restart with the edited file
    srv2.stop()
    srv3 = type(srv2)(srv2.base, (srv2.base / "ftpsd.toml").read_text(), (srv2.base / "users.toml").read_text())
    try:
        srv3.implicit_port = srv3.ports[1]
        ftp = tls_login(srv3, user="bob", cls=ftplib.FTP_TLS)
        assert ftp.nlst() == []  # bob may do full handshakes
        ftp_alice = tls_login(srv3, user="alice", cls=ftplib.FTP_TLS)
        with pytest.raises(ftplib.error_perm, match="^522"):
            ftp_alice.nlst()
    finally:
        srv3.stop()


def test_stolen_passive_port_gets_nothing(make_tls_server):
    """Another TLS client that connects to the passive port first cannot resume the victim's session."""
    srv = make_tls_server()
    ftp = tls_login(srv)
    ftp.storbinary("STOR secret", io.BytesIO(b"top secret"))
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    thief = socket.create_connection((host, port), timeout=10)
    ftp.putcmd("RETR secret")
    assert ftp.getresp().startswith("150")
    got = b""
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        t = client_context().wrap_socket(thief, server_hostname="localhost")  # fresh session: no resumption
        got = t.recv(100)
        if not got:
            raise ConnectionError("closed")
    assert b"top secret" not in got
    with pytest.raises(ftplib.error_perm, match="^522 .*not resumed"):
        ftp.getresp()
    ftp.sendcmd("NOOP")


def test_user_in_clear_refused_when_tls_required(make_tls_server):
    srv = make_tls_server(tls_extra='required = "login"')
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    reply = send(s, f, "USER alice")
    assert reply == "530 Login only over TLS: send AUTH TLS first.\r\n", reply
    assert send(s, f, f"PASS {PASSWORDS['alice']}").startswith("530 ")
    # The setting is named in the log, not to the client.
    assert wait_for(lambda: 'USER refused on a clear control connection: tls.required = "login"' in srv.log())
    assert "logged in" not in srv.log()
    # over TLS the same user logs in
    ftp = tls_login(srv)
    ftp.quit()


def test_required_all_needs_prot_p(make_tls_server):
    srv = make_tls_server(tls_extra='required = "all"')
    ftp = tls_login(srv, prot_p=False)
    ftp.sendcmd("PBSZ 0")
    with pytest.raises(ftplib.error_perm) as prot_c:
        ftp.sendcmd("PROT C")
    assert str(prot_c.value) == "534 PROT C refused: data connections must be protected; use PROT P.", prot_c.value
    ftp.sendcmd("PASV")
    with pytest.raises(ftplib.error_perm) as clear_list:
        ftp.sendcmd("LIST")
    assert str(clear_list.value) == "521 Data connections must be protected: send PBSZ 0 and PROT P first.", \
        clear_list.value
    ftp.prot_p()
    assert ftp.nlst() == []
    assert wait_for(lambda: 'PROT C refused: tls.required = "all"' in srv.log())
    assert wait_for(lambda: 'LIST refused without PROT P: tls.required = "all"' in srv.log())


def test_tls_required_of_a_user_is_named_in_the_log(make_tls_server):
    srv = make_tls_server(user_options={"bob": 'tls_required = "login"'})
    with Control.to(srv) as c:
        assert c.cmd("USER bob") == "530 Login only over TLS: send AUTH TLS first.\r\n"
        c.login("alice")  # tls.required stays "none" for everybody else
    assert wait_for(lambda: 'USER refused on a clear control connection: tls_required = "login" (users file, '
                            'user bob)' in srv.log())


def test_pipelined_commands_after_auth_tls_are_discarded(make_tls_server):
    srv = make_tls_server()
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(f"AUTH TLS\r\nUSER alice\r\nPASS {PASSWORDS['alice']}\r\n".encode())
    assert read_reply(f).startswith("234")
    t = client_context().wrap_socket(s, server_hostname="localhost")
    tf = t.makefile("rb")
    # Had USER/PASS been executed, we would be logged in now.
    assert send(t, tf, "PWD").startswith("530")
    assert send(t, tf, f"PASS {PASSWORDS['alice']}").startswith("503")
    assert "discarded" in srv.log() and "sent after AUTH TLS" in srv.log()


def test_security_command_sequencing(make_tls_server):
    srv = make_tls_server()
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    assert send(s, f, "FEAT").startswith("211")
    assert send(s, f, "PBSZ 0").startswith("503")
    assert send(s, f, "PROT P").startswith("503")
    assert send(s, f, "AUTH GSSAPI").startswith("504")
    assert send(s, f, "AUTH TLS").startswith("234")
    t = client_context().wrap_socket(s, server_hostname="localhost")
    tf = t.makefile("rb")
    assert send(t, tf, "PROT P").startswith("503")  # PBSZ first (RFC 4217 §8)
    assert send(t, tf, "PBSZ 0").startswith("200 PBSZ=0")
    assert send(t, tf, "PROT S").startswith("536")
    assert send(t, tf, "PROT E").startswith("536")
    assert send(t, tf, "PROT P").startswith("200")
    assert send(t, tf, "AUTH TLS").startswith("503")
    assert send(t, tf, "USER alice").startswith("331")
    assert send(t, tf, f"PASS {PASSWORDS['alice']}").startswith("230")
    assert send(t, tf, "CCC") == "534 CCC is not allowed on this server: the control connection stays protected.\r\n"
    assert wait_for(lambda: "CCC refused: tls.allow_ccc = false" in srv.log())


def test_auth_on_a_plain_listener_is_refused(make_server):
    srv = make_server()
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    assert send(s, f, "AUTH TLS").startswith("534")


def test_ccc_when_allowed(make_tls_server):
    srv = make_tls_server(tls_extra="allow_ccc = true")
    s = socket.create_connection((srv.host, srv.port), timeout=10)
    f = s.makefile("rb")
    read_reply(f)
    assert send(s, f, "AUTH TLS").startswith("234")
    t = client_context().wrap_socket(s, server_hostname="localhost")
    tf = t.makefile("rb")
    assert send(t, tf, "USER alice").startswith("331")
    assert send(t, tf, f"PASS {PASSWORDS['alice']}").startswith("230")
    assert send(t, tf, "CCC").startswith("200")
    plain = t.unwrap()
    pf = plain.makefile("rb")
    assert send(plain, pf, "PWD").startswith('257 "/"')


@pytest.mark.parametrize("version", ["-tls1", "-tls1_1"])
def test_old_tls_versions_refused(make_tls_server, version):
    srv = make_tls_server()
    r = subprocess.run(["openssl", "s_client", version, "-cipher", "DEFAULT:@SECLEVEL=0", "-connect",
                        f"127.0.0.1:{srv.implicit_port}"], input=b"", capture_output=True, timeout=20)
    assert r.returncode != 0, r.stdout
    assert b"alert protocol version" in r.stderr, r.stderr  # the server said no (alert 70)
    # TLS 1.2 works
    ctx = client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    s = ctx.wrap_socket(socket.create_connection((srv.host, srv.implicit_port), timeout=10),
                        server_hostname="localhost")
    assert s.version() == "TLSv1.2"
    assert s.recv(100).startswith(b"220")


def test_alpn_ftp_accepted_and_others_refused(make_tls_server):
    srv = make_tls_server()
    for alpn, ok in ((["ftp"], True), (None, True), (["http/1.1"], False), (["h2", "imap"], False)):
        raw = socket.create_connection((srv.host, srv.implicit_port), timeout=10)
        if ok:
            s = client_context(alpn).wrap_socket(raw, server_hostname="localhost")
            assert s.recv(100).startswith(b"220")
            s.close()
        else:
            with pytest.raises(ssl.SSLError, match="NO_APPLICATION_PROTOCOL|no application protocol"):
                client_context(alpn).wrap_socket(raw, server_hostname="localhost")


def test_network_session_reuse_override(make_tls_server):
    srv = make_tls_server(tls_extra='[[tls.session_reuse_overrides]]\nnetworks = ["127.0.0.0/8"]\n'
                                    'session_reuse = "off"\n')
    ftp = tls_login(srv, cls=ftplib.FTP_TLS)  # full handshakes, from a network where that is allowed
    ftp.storbinary("STOR a", io.BytesIO(b"abc"))
    assert ftp.nlst() == ["a"]
    srv2 = make_tls_server(tls_extra='[[tls.session_reuse_overrides]]\nnetworks = ["192.0.2.0/24"]\n'
                                     'session_reuse = "off"\n')
    ftp2 = tls_login(srv2, cls=ftplib.FTP_TLS)  # 127.0.0.1 is not in the override: require applies
    with pytest.raises(ftplib.error_perm, match="^522"):
        ftp2.nlst()


def test_client_handshake_right_after_pasv_before_retr(make_tls_server):
    """Some clients start the data connection's TLS handshake as soon as they have connected,
    before sending RETR; the ClientHello waits in the socket until the server is ready for it."""
    srv = make_tls_server()
    ftp = tls_login(srv)
    ftp.storbinary("STOR early", io.BytesIO(b"early bird"))
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    raw = socket.create_connection((host, port), timeout=10)
    # The TLS engine works on memory buffers: the ClientHello is in the socket before RETR is sent,
    # without a thread racing the command.
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ftp.context.wrap_bio(incoming, outgoing, server_hostname="localhost", session=ftp.sock.session)

    def over_socket(op):
        """Runs `op` of the TLS object, carrying its records over the socket, until it completes."""
        while True:
            try:
                result = op()
            except ssl.SSLWantReadError:
                if pending := outgoing.read():
                    raw.sendall(pending)
                chunk = raw.recv(65536)
                if chunk:
                    incoming.write(chunk)
                else:
                    incoming.write_eof()
                continue
            if pending := outgoing.read():
                raw.sendall(pending)
            return result

    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    raw.sendall(outgoing.read())  # the ClientHello
    ftp.putcmd("RETR early")
    over_socket(tls.do_handshake)  # the server answers it before or after its 150
    assert ftp.getresp().startswith("150")
    assert (over_socket(lambda: tls.read(100)), tls.session_reused) == (b"early bird", True)
    raw.close()
    assert ftp.getresp().startswith("226")


def unsent_bytes(data: socket.socket) -> int:
    """The server's send queue on the data connection `data` (the client's end), from /proc/net/tcp:
    bytes it has written that cannot go out while the client's receive buffer is full."""
    client_port, server_port = data.getsockname()[1], data.getpeername()[1]
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, remote, _, queues = line.split()[1:5]
            if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
                return int(queues.split(":")[0], 16)
    return 0


def test_large_download_with_a_slow_reader_arrives_whole(make_tls_server):
    # A download above 64 KiB gathers its TLS records and writes them out in chunks: a client that
    # reads slowly fills the socket buffer, so these writes block halfway and must resume exactly.
    srv = make_tls_server()
    data = os.urandom(8 * 1024 * 1024 + 4321)
    (srv.root() / "big.bin").write_bytes(data)
    ftp = tls_login(srv)
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("RETR big.bin")
    got = bytearray()
    checkpoint = 0
    while True:
        # In the first MiB, every 64 KiB the client waits until the server has bytes queued that the full
        # socket buffer does not take: its writes meet a full buffer over and over.
        if checkpoint < 1024 * 1024 and len(got) >= checkpoint:
            assert wait_for(lambda: unsent_bytes(conn) > 0, timeout=10, interval=0.01), len(got)
            checkpoint += 64 * 1024
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    conn.unwrap()  # the server ended the stream with close_notify
    conn.close()
    assert ftp.voidresp().startswith("226")
    assert bytes(got) == data
    # REST into the middle and ASCII mode take the same path.
    out = io.BytesIO()
    ftp.retrbinary("RETR big.bin", out.write, rest=3 * 1024 * 1024 + 1)
    assert out.getvalue() == data[3 * 1024 * 1024 + 1:]
    text = b"line\n" * 40000
    (srv.root() / "text.txt").write_bytes(text)
    lines = []
    ftp.retrlines("RETR text.txt", lines.append)
    assert lines == ["line"] * 40000
    ftp.quit()


def test_handshake_finished_before_the_transfer_command(make_tls_server):
    """aioftp's order: connect to the passive port, finish the TLS handshake, only then send RETR. Early
    connections that are never used are forgotten by the next PASV, by ABOR and by the end of the session."""
    srv = make_tls_server()
    (srv.root() / "f").write_bytes(b"early and whole")
    ftp = tls_login(srv)

    def early_connection():
        host, port = ftplib.parse227(ftp.sendcmd("PASV"))
        raw = socket.create_connection((host, port), timeout=10)
        return ftp.context.wrap_socket(raw, server_hostname="localhost", session=ftp.sock.session)

    unused = early_connection()  # the next PASV replaces it
    t = early_connection()
    assert t.session_reused
    ftp.putcmd("RETR f")
    assert ftp.getresp().startswith("150")
    assert t.recv(100) == b"early and whole"
    assert t.recv(100) == b""  # close_notify
    t.unwrap()
    assert ftp.voidresp().startswith("226")
    unused.settimeout(10)
    with pytest.raises((ssl.SSLError, OSError)):
        if unused.recv(100) == b"":
            raise ConnectionError("closed")
    early_connection()
    assert ftp.sendcmd("ABOR").startswith("225")
    with pytest.raises(ftplib.error_temp, match="^425 Use PORT, EPRT, PASV or EPSV first"):
        ftp.sendcmd("LIST")  # ABOR forgot the prepared connection
    early_connection()
    ftp.quit()  # with an early connection still open
    assert wait_for(lambda: "disconnected" in srv.log())
