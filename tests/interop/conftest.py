"""Interop tests: real third-party FTPS clients (rclone, Java Commons Net, Node.js basic-ftp) against the
real ftpsd binary (FTPSD_BIN, as in tests/integration).

The fixtures are those of tests/integration, re-exported here: `make_server` from its conftest.py and
`make_tls_server` from tls_helpers.py (which says `from conftest import BIN, PASSWORDS`: this module has
both before it imports tls_helpers). The tests import their helpers from interop_helpers.py.
"""
import pytest

from interop_helpers import BIN, PASSWORDS, Server, _base  # noqa: F401 (BIN, PASSWORDS: see above)

make_server = _base.make_server  # fixture

from tls_helpers import make_tls_server  # noqa: E402,F401 (fixture; needs BIN and PASSWORDS above)


@pytest.fixture
def make_tls_server_reuse_off(make_tls_server):
    """make_tls_server_reuse_off(user="alice") -> a TLS server (explicit .port, .implicit_port) whose users
    file gives `user` the per-user override `tls_session_reuse = "off"`, the global default staying
    "require". The users file is read at start, so the server is started once, edited, and restarted."""
    started = []

    def factory(user="alice"):
        first = make_tls_server()
        first.stop()
        users = (first.base / "users.toml").read_text()
        marker = f'name = "{user}"\n'
        assert marker in users
        users = users.replace(marker, f'{marker}tls_session_reuse = "off"\n')
        srv = Server(first.base, (first.base / "ftpsd.toml").read_text(), users)
        srv.implicit_port = srv.ports[1]
        started.append(srv)
        return srv

    yield factory
    for s in started:
        s.stop()
