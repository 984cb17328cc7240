"""Shared by the interop tests (a module name of its own: when pytest collects tests/integration in the
same run, `conftest` may name either folder's conftest.py)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
if str(INTEGRATION) not in sys.path:
    sys.path.insert(0, str(INTEGRATION))


def _load_integration_conftest():
    name = "ftpsd_integration_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, INTEGRATION / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_base = _load_integration_conftest()
BIN = _base.BIN
PASSWORDS = _base.PASSWORDS
SANITIZED = _base.SANITIZED
Server = _base.Server

# What ftpsd logs when tls.session_reuse = "require" refuses a data connection.
REFUSED_LOG = "data connection refused: it did not resume the control connection's TLS session"


def run(cmd, timeout=60, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, (cmd, r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    return r


def needs(available: bool, reason: str):
    """A skip mark for a client that is not installed, as a developer may have it; under CI (CI set),
    where `make deps` installed every Debian package these tests use, a missing one is an error."""
    if not available and os.environ.get("CI"):
        raise RuntimeError(f"{reason} (CI is set: scripts/install-deps.sh should have installed it)")
    return pytest.mark.skipif(not available, reason=reason)
