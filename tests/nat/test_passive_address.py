"""PASV through a NAT router: without passive.address it fails (and the log says why), with it every
client works over PROT P."""
from conftest import PASSIVE, PUBLIC, SERVER, pasv_addresses


def test_without_passive_address_pasv_through_nat_fails_and_the_log_says_why(nat):
    srv = nat.start(nat.config())
    r = nat.ftp(ops=[("list",)], timeout=8)
    assert not r["ok"]
    assert pasv_addresses(r["replies"]) == [SERVER]  # the private address, unreachable from outside
    log = srv.log()
    assert "PASV gives the private address 10.0.0.2" in log
    assert "set passive.address" in log


def test_with_passive_address_list_upload_download_over_prot_p(nat):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    r = nat.ftp(ops=[("list",), ("stor", "up.bin", 300), ("retr", "up.bin"), ("retr", "hello.txt")])
    assert r["ok"], r
    assert pasv_addresses(r["replies"]) == [PUBLIC] * 4
    assert any("hello.txt" in line for line in r["results"][0])
    assert r["results"][1:] == [300 * 1024, 300 * 1024, len("hello through NAT\n")]
    assert (nat.home / "up.bin").stat().st_size == 300 * 1024


def test_epsv_works_through_nat_even_without_passive_address(nat):
    nat.start(nat.config())
    r = nat.ftp(mode="epsv", ops=[("list",), ("retr", "hello.txt")])
    assert r["ok"], r
    assert all(x.startswith("229") for x in r["replies"] if x[:3] in ("227", "229"))


def test_a_port_outside_the_forwarded_range_is_never_handed_out(nat):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    from conftest import pasv_ports
    r = nat.ftp(ops=[("list",)] * 25)
    assert r["ok"], r
    ports = pasv_ports(r["replies"])
    assert len(ports) == 25
    assert all(PASSIVE[0] <= p <= PASSIVE[1] for p in ports), ports
