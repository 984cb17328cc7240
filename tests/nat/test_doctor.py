"""`ftpsd doctor` run from the client namespace through the NAT router."""
import os

from conftest import BIN, CONTROL_PORT, PASSWORD, PUBLIC, USER


def doctor(nat, url, *extra):
    env = dict(os.environ, FTPSD_PASSWORD=PASSWORD)
    cmd = nat.topo.cmd("client", BIN, "doctor", url, "--ports", "2", *extra)
    import subprocess
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def test_doctor_explains_a_missing_passive_address(nat):
    nat.start(nat.config())
    r = doctor(nat, f"ftps://{USER}@{PUBLIC}:{CONTROL_PORT}")
    assert r.returncode == 1, r.stdout
    assert "[PASS] TCP connect" in r.stdout
    assert "[PASS] login" in r.stdout
    assert "[FAIL] PASV address: 10.0.0.2 is a private address" in r.stdout, r.stdout
    assert f'passive.address = "{PUBLIC}"' in r.stdout
    assert "[PASS] EPSV data connection" in r.stdout  # EPSV carries no address: fine through NAT


def test_doctor_passes_with_passive_address(nat):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    r = doctor(nat, f"ftps://{USER}@{PUBLIC}:{CONTROL_PORT}")
    assert r.returncode == 0, r.stdout
    assert "[PASS] PASV address" in r.stdout
    assert "[PASS] passive data connection 2/2: port" in r.stdout
    assert "TLS session resumed" in r.stdout
    assert "[PASS] upload 64 KiB over PROT P" in r.stdout
    assert "[PASS] download 64 KiB over PROT P" in r.stdout
    assert "[PASS] active mode" in r.stdout
    assert "[WARN] certificate" in r.stdout  # self-signed: a warning with its fix, not a failure
    assert "All checks passed." in r.stdout


def test_doctor_reports_an_unreachable_control_port(nat):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    r = doctor(nat, f"ftps://{USER}@{PUBLIC}:2999")
    assert r.returncode == 1
    assert "[FAIL] TCP connect" in r.stdout
    assert "ftpsd firewall" in r.stdout


def test_doctor_over_implicit_ftps_and_clear_ftp(nat):
    listeners = (f'[[listeners]]\naddress = "0.0.0.0:{CONTROL_PORT}"\ntls = "explicit"\n'
                 '[[listeners]]\naddress = "0.0.0.0:2990"\ntls = "implicit"\n')
    nat.start(nat.config(passive=f'address = "{PUBLIC}"', listeners=listeners))
    r = doctor(nat, f"ftps://{USER}@{PUBLIC}:2990", "--implicit")
    assert r.returncode == 0, r.stdout
    assert "(implicit TLS)" in r.stdout and "[PASS] download 64 KiB over PROT P" in r.stdout
    r = doctor(nat, f"ftp://{USER}@{PUBLIC}:{CONTROL_PORT}")
    assert r.returncode == 0, r.stdout
    assert "[PASS] download 64 KiB\n" in r.stdout and "PROT P" not in r.stdout
    assert "[WARN] encryption: clear FTP" in r.stdout
