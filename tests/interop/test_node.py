"""Node.js: basic-ftp from npm (version pinned in tests/interop/node/package.json and package-lock.json,
installed at test time into the git-ignored tests/interop/node/node_modules) against ftpsd with
tls.session_reuse = "require" (the default), explicit and implicit FTPS, PROT P.

basic-ftp resumes the control connection's TLS session on every data connection (and keeps the newest
TLS 1.3 ticket the control connection received), so it needs no override.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from interop_helpers import PASSWORDS, REFUSED_LOG

NODE_DIR = Path(__file__).resolve().parent / "node"

pytestmark = pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                                reason="node or npm not found: the Node.js tests (basic-ftp) need both")


def pinned_version():
    return json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["basic-ftp"]


@pytest.fixture(scope="module")
def basic_ftp():
    """Installs the locked basic-ftp with `npm ci` unless that exact version is already installed."""
    installed = NODE_DIR / "node_modules" / "basic-ftp" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != pinned_version():
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, f"npm ci in {NODE_DIR} failed:\n{r.stdout}\n{r.stderr}"
    return json.loads(installed.read_text())["version"]


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_basic_ftp_upload_list_download(make_tls_server, basic_ftp, tmp_path, mode):
    assert basic_ftp == pinned_version()
    srv = make_tls_server()  # tls.session_reuse = "require", the default
    (srv.root() / "other.txt").write_bytes(b"x")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(4 * 1024 * 1024 + 13))
    back = tmp_path / "back.bin"
    port = srv.port if mode == "explicit" else srv.implicit_port
    r = subprocess.run(["node", str(NODE_DIR / "client.js"), mode, str(port), "alice", PASSWORDS["alice"], str(src),
                        "n.bin", str(back)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr, srv.log()[-3000:])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["names"] == ["n.bin", "other.txt"]
    assert (srv.root() / "n.bin").read_bytes() == src.read_bytes()
    assert back.read_bytes() == src.read_bytes()
    log = srv.log()
    assert "PROT P" in log and REFUSED_LOG not in log
