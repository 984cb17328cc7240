"""Real clients through the NAT router with passive.address set: curl (also trusting the PASV address
with --no-ftp-skip-pasv-ip) and lftp, all over explicit FTPS with PROT P."""
import pytest

from conftest import CONTROL_PORT, PASSWORD, PUBLIC, USER

URL = f"ftp://{PUBLIC}:{CONTROL_PORT}"


@pytest.mark.parametrize("skip_pasv_ip", [True, False], ids=["curl", "curl-no-ftp-skip-pasv-ip"])
def test_curl_download_upload_and_list(nat, skip_pasv_ip, tmp_path):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    base = ["curl", "-sS", "--max-time", "30", "--ssl-reqd", "-k", "--disable-epsv", "-u", f"{USER}:{PASSWORD}"]
    if not skip_pasv_ip:
        base.append("--no-ftp-skip-pasv-ip")
    r = nat.topo.sh("client", *base, f"{URL}/hello.txt")
    assert r.stdout == "hello through NAT\n"
    up = tmp_path / "up.txt"
    up.write_text("uploaded by curl\n" * 1000)
    nat.topo.sh("client", *base, "-T", str(up), f"{URL}/curl.txt")
    assert (nat.home / "curl.txt").read_text() == up.read_text()
    listing = nat.topo.sh("client", *base, f"{URL}/").stdout
    assert "curl.txt" in listing and "hello.txt" in listing


def test_lftp_trusting_the_pasv_address(nat, tmp_path):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    up = tmp_path / "lftp-up.txt"
    up.write_text("from lftp\n" * 500)
    script = ("set ssl:verify-certificate no; set ftp:ssl-force yes; set ftp:ssl-protect-data yes; "
              "set ftp:prefer-epsv no; set ftp:fix-pasv-address no; set net:max-retries 1; set net:timeout 10; "
              f"put {up} -o lftp.txt; cat hello.txt; ls; bye")
    r = nat.topo.sh("client", "lftp", "-u", f"{USER},{PASSWORD}", "-p", str(CONTROL_PORT), "-e", script, PUBLIC,
                    timeout=90)
    assert "hello through NAT" in r.stdout
    assert "lftp.txt" in r.stdout
    assert (nat.home / "lftp.txt").read_text() == up.read_text()
