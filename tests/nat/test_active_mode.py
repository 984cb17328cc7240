"""Active mode (PORT) through the router: works when the client accepts the server's connection, fails
with a logged cause and fix when a stateful firewall on the client drops it."""
from conftest import PUBLIC

CLIENT_FIREWALL = """
table inet clientfw {
  chain input {
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iifname "lo" accept
  }
}
"""


def test_active_mode_without_client_firewall(nat):
    nat.start(nat.config())
    r = nat.ftp(mode="active", ops=[("list",), ("retr", "hello.txt"), ("stor", "act.bin", 64)])
    assert r["ok"], r
    assert (nat.home / "act.bin").stat().st_size == 64 * 1024


def test_active_mode_with_a_stateful_client_firewall_fails_and_is_explained(nat):
    srv = nat.start(nat.config())
    nat.topo.nft("client", CLIENT_FIREWALL)
    r = nat.ftp(mode="active", ops=[("list",)], timeout=10)
    assert not r["ok"]
    assert "425" in r["error"]
    log = srv.log()
    assert "did not answer before active.connect_timeout" in log
    assert "it should use passive mode" in log
    # Passive mode through the same client firewall works: the client opens every connection.
    r = nat.ftp(mode="epsv", ops=[("list",)])
    assert r["ok"], r


def test_port_with_a_private_address_from_a_public_client_is_explained(nat):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    r = nat.ftp(ops=[("raw", "PORT 192,168,1,20,200,10"), ("raw", "PORT 198,51,100,77,200,10")])
    assert r["ok"], r
    assert r["results"][0].startswith("501")
    assert "behind NAT" in r["results"][0] and "passive mode" in r["results"][0]
    assert r["results"][1].startswith("501")  # a public address that is not the client's: bounce protection
