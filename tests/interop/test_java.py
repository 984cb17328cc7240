"""Java: Apache Commons Net's FTPSClient (Debian libcommons-net-java) on the JDK's TLS (JSSE), explicit and
implicit FTPS, PROT P. The client, tests/interop/java/FtpsInterop.java, is compiled at test time.

Commons Net does not resume the control connection's TLS session on its data connections (JSSE caches
client sessions by host and port, and the data port is not the control port), so under
tls.session_reuse = "require" (the default) ftpsd refuses its first data connection with 522; with the
per-user override tls_session_reuse = "off" it uploads, lists and downloads.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from interop_helpers import PASSWORDS, REFUSED_LOG, needs, run

JAR = Path("/usr/share/java/commons-net.jar")
SOURCE = Path(__file__).resolve().parent / "java" / "FtpsInterop.java"

pytestmark = [
    needs(shutil.which("javac") is not None and shutil.which("java") is not None,
          "no JDK (java, javac): Debian openjdk-17-jdk-headless; make deps installs it"),
    needs(JAR.exists(), f"{JAR} missing: Debian libcommons-net-java; make deps installs it"),
]


@pytest.fixture(scope="module")
def java_client(tmp_path_factory):
    classes = tmp_path_factory.mktemp("java-classes")
    run(["javac", "-d", str(classes), "-cp", str(JAR), str(SOURCE)], timeout=120)
    return f"{classes}:{JAR}"


def run_java(classpath, srv, mode, local, remote, back):
    port = srv.port if mode == "explicit" else srv.implicit_port
    return subprocess.run(["java", "-cp", classpath, "FtpsInterop", mode, str(port), "alice", PASSWORDS["alice"],
                           str(local), remote, str(back)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_commons_net_refused_under_require(make_tls_server, java_client, tmp_path, mode):
    srv = make_tls_server()  # tls.session_reuse = "require", the default
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(64 * 1024))
    r = run_java(java_client, srv, mode, src, "j.bin", tmp_path / "back.bin")
    assert r.returncode == 2, (r.stdout, r.stderr)
    # The first data connection (the upload) did a full TLS handshake and was refused.
    assert "failed STOR: 522 Data connection refused: TLS session of the control connection not resumed" \
        in r.stdout, (r.stdout, r.stderr)
    assert REFUSED_LOG in srv.log()


@pytest.mark.parametrize("mode", ["explicit", "implicit"])
def test_commons_net_with_per_user_override(make_tls_server_reuse_off, java_client, tmp_path, mode):
    srv = make_tls_server_reuse_off("alice")  # global "require", alice: tls_session_reuse = "off"
    (srv.root() / "other.txt").write_bytes(b"x")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 11))
    back = tmp_path / "back.bin"
    r = run_java(java_client, srv, mode, src, "j.bin", back)
    assert r.returncode == 0, (r.stdout, r.stderr, srv.log()[-3000:])
    assert "names: j.bin,other.txt" in r.stdout
    assert (srv.root() / "j.bin").read_bytes() == src.read_bytes()
    assert back.read_bytes() == src.read_bytes()
    log = srv.log()
    assert "PROT P" in log and REFUSED_LOG not in log
