"""`make run`: it builds only the server, its embedded default passes its own lint, and the Python
snippet it prints (the same as in the README's opening) works against it. scripts/make-run.sh runs
from a copy in a temporary folder (it prepares run/ next to its scripts/ folder) and in a network
namespace of its own, because the embedded default listens on the fixed ports 2121 and 2990."""
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import BIN, REPO, SANITIZED
from helpers import wait_for

# Runs a snippet as printed, with TLS contexts that behave like stock CPython's (Debian's Python
# sets OP_IGNORE_UNEXPECTED_EOF, which would hide a missing close_notify).
RUNNER = """import ssl, sys
_create = ssl.create_default_context
def create_default_context(*args, **kwargs):
    ctx = _create(*args, **kwargs)
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx
ssl.create_default_context = create_default_context
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), {"__name__": "__main__"})
"""


def python_snippet(text):
    """The lines from `import ftplib, ssl` to `ftp.quit()`."""
    m = re.search(r"^import ftplib, ssl\n.*?^ftp\.quit\(\)\n", text, re.M | re.S)
    assert m, text
    return m.group(0)


@pytest.fixture
def make_run(tmp_path):
    """scripts/make-run.sh started in its own network namespace; yields (process, output path)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter") or not shutil.which("ip"):
        pytest.skip("needs root, unshare, nsenter and ip: a network namespace of its own for ports 2121 and 2990")
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "make-run.sh", tmp_path / "scripts")
    out = tmp_path / "make-run.log"
    with open(out, "wb") as log:
        # unshare and sh exec, and so does make-run.sh: the process is ftpsd in the end.
        proc = subprocess.Popen(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$0" "$1"',
                                 str(tmp_path / "scripts" / "make-run.sh"), BIN],
                                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        assert wait_for(lambda: "Stop with Ctrl-C." in out.read_text() or proc.poll() is not None,
                        timeout=120 if SANITIZED else 60), out.read_text()
        assert proc.poll() is None, out.read_text()
        yield proc, out
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    text = out.read_text()
    assert "AddressSanitizer" not in text and "runtime error:" not in text, text[-5000:]


def run_in(proc, tmp_path, snippet):
    (tmp_path / "snippet.py").write_text(snippet)
    (tmp_path / "runner.py").write_text(RUNNER)
    return subprocess.run(["nsenter", f"--net=/proc/{proc.pid}/ns/net", "/usr/bin/python3",
                           str(tmp_path / "runner.py"), str(tmp_path / "snippet.py")],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)


def test_make_run_prints_a_python_snippet_that_works_and_is_the_readme_one(make_run, tmp_path):
    proc, out = make_run
    printed = python_snippet(out.read_text())
    readme = REPO.joinpath("README.md").read_text()
    opening = readme[:readme.index("\n## ")]
    assert python_snippet(opening) == printed, "the README's opening shows what make run prints"

    r = run_in(proc, tmp_path, printed)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "['README.txt']\nHello from ftpsd. Upload, rename and delete freely: this is run/data.\n", r.stdout

    # Without the subclass, ftplib's data connection is refused: that is why the snippet has it.
    plain = printed.replace("ftp = FTP_TLS(context=ctx)", "ftp = ftplib.FTP_TLS(context=ctx)")
    assert plain != printed
    r = run_in(proc, tmp_path, plain)
    assert r.returncode != 0 and "Traceback" in r.stderr, (r.stdout, r.stderr)
    assert wait_for(lambda: "data connection refused: it did not resume the control connection's TLS session"
                    in out.read_text()), out.read_text()


def test_the_embedded_default_is_written_to_run_and_passes_its_own_lint(make_run, tmp_path):
    _, out = make_run
    text = out.read_text()
    assert "listening on 127.0.0.1:2121 tls=explicit" in text, text
    assert "ftpsd is running with run/ftpsd.toml.\n" in text, text
    subprocess.run([BIN, "config", "init", tmp_path / "default.toml"], check=True, capture_output=True, timeout=60)
    assert (tmp_path / "run" / "ftpsd.toml").read_text() == (tmp_path / "default.toml").read_text()
    # A NAT finding is logged as "FILE:LINE: KEY: ..." (e.g. passive.ports too small for
    # server.max_sessions).
    assert not re.search(r"ftpsd\.toml(:\d+)?: ", text), text
    assert "passive.ports" not in text, text


def test_make_run_builds_only_the_server():
    if not shutil.which("make"):
        pytest.skip("make not installed")
    r = subprocess.run(["make", "-n", "run", "BUILD=build-for-make-n"], capture_output=True, text=True, cwd=REPO,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    ninja = [line for line in r.stdout.splitlines() if line.startswith("ninja ")]
    assert ninja and all(line.split()[-1] == "ftpsd" for line in ninja), r.stdout
    assert "scripts/make-run.sh build-for-make-n/ftpsd" in r.stdout, r.stdout


MANAGER_SNIPPET = """import http.client, json, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conn = http.client.HTTPSConnection(HOST, PORT, context=ctx, timeout=30)
conn.request("GET", "/")
r = conn.getresponse()
print(r.status, r.getheader("Content-Type"), b"ftpsd Manager" in r.read())
conn.request("POST", "/api/v1/auth/session", body=json.dumps({"name": NAME, "password": PASSWORD}),
             headers={"Content-Type": "application/json"})
r = conn.getresponse()
print(r.status, json.loads(r.read())["role"])
"""


def test_make_run_starts_the_manager_and_prints_its_url_and_account(make_run, tmp_path):
    proc, out = make_run
    text = out.read_text()
    m = re.search(r"^The Manager \(web console and REST API\): https://(127\.0\.0\.1):(\d+)/\n"
                  r"  user: (\S+)    password: (\S+)    ", text, re.M)
    assert m, text
    host, port, name, password = m.groups()
    assert text.index("The Manager") < text.index("Stop with Ctrl-C."), "beside the FTP ones"
    snippet = MANAGER_SNIPPET.replace("HOST", repr(host)).replace("PORT", port) \
        .replace("NAME", repr(name)).replace("PASSWORD", repr(password))
    r = run_in(proc, tmp_path, snippet)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "200 text/html; charset=utf-8 True\n200 admin\n", r.stdout


APPLY_SNIPPET = """import ftplib, http.client, json, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
conn = http.client.HTTPSConnection(HOST, PORT, context=ctx, timeout=30)
conn.request("POST", "/api/v1/auth/token", body=json.dumps({"name": NAME, "password": PASSWORD}),
             headers={"Content-Type": "application/json"})
token = json.loads(conn.getresponse().read())["token"]
conn.request("PUT", "/api/v1/domains/default/passive", body=json.dumps({"ports": "51000-51099"}),
             headers={"Content-Type": "application/json", "Authorization": "Bearer " + token})
r = conn.getresponse()
print(r.status, json.loads(r.read())["applied"])
ftp = ftplib.FTP()
ftp.connect("127.0.0.1", 2121, timeout=30)
ftp.login("demo", "demo")
print(51000 <= ftplib.parse227(ftp.sendcmd("PASV"))[1] <= 51099)
ftp.quit()
"""


def test_the_manager_of_make_run_applies_passive_settings_to_its_file(make_run, tmp_path):
    """make run serves run/ftpsd.toml, so the Manager's FTP/S page can change it (no 409 for the
    embedded default), and the change is there for the next make run."""
    proc, out = make_run
    m = re.search(r"^The Manager \(web console and REST API\): https://(127\.0\.0\.1):(\d+)/\n"
                  r"  user: (\S+)    password: (\S+)    ", out.read_text(), re.M)
    assert m, out.read_text()
    host, port, name, password = m.groups()
    snippet = APPLY_SNIPPET.replace("HOST", repr(host)).replace("PORT", port) \
        .replace("NAME", repr(name)).replace("PASSWORD", repr(password))
    r = run_in(proc, tmp_path, snippet)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "200 True\nTrue\n", r.stdout
    config = tmp_path / "run" / "ftpsd.toml"
    assert 'ports = "51000-51099"' in config.read_text(), config.read_text()
    assert [p.name for p in (tmp_path / "run" / "ftpsd.toml.revisions").iterdir()] == ["1.toml"], \
        "the text make run wrote, kept as revision 1"
