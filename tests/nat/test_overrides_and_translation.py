"""Address overrides (LAN and internet clients at once) and port translation on the router."""
from conftest import CONTROL_PORT, LAN_SERVER, PASSIVE, PUBLIC, pasv_addresses, pasv_ports

OVERRIDES = f'''address = "{PUBLIC}"
[[passive.address_overrides]]
networks = ["10.9.0.0/24"]
address = "local"
'''


def test_lan_client_gets_the_internal_address_internet_client_the_public_one(nat):
    srv = nat.start(nat.config(passive=OVERRIDES))
    lan = nat.ftp(role="lan", host=LAN_SERVER, ops=[("list",), ("retr", "hello.txt")])
    assert lan["ok"], lan
    assert pasv_addresses(lan["replies"]) == [LAN_SERVER, LAN_SERVER]
    wan = nat.ftp(ops=[("list",), ("retr", "hello.txt")])
    assert wan["ok"], wan
    assert pasv_addresses(wan["replies"]) == [PUBLIC, PUBLIC]
    assert "PASV gives the private" not in srv.log()


def test_port_translation_advertises_the_external_ports(nat):
    cfg = nat.config(passive=f'address = "{PUBLIC}"\nadvertised_ports = "30000-30009"')
    rules = nat.firewall(cfg)
    assert "tcp dport 30000-30009 dnat ip to 10.0.0.2 : tcp dport map" in rules
    nat.start(cfg, router_rules=rules)
    r = nat.ftp(ops=[("list",), ("stor", "t.bin", 128), ("retr", "t.bin")], tls="explicit")
    assert r["ok"], r
    ports = pasv_ports(r["replies"])
    assert len(ports) == 3 and all(30000 <= p <= 30009 for p in ports), ports
    epsv = nat.ftp(mode="epsv", ops=[("list",)])
    assert epsv["ok"], epsv
    assert all(30000 <= p <= 30009 for p in pasv_ports(epsv["replies"]))


def test_the_generated_router_firewall_drops_everything_else(nat):
    nat.start(nat.config(passive=f'address = "{PUBLIC}"'))
    # A port ftpsd does not use is not forwarded: nothing answers behind the router.
    r = nat.topo.sh("client", "curl", "-sS", "--max-time", "3", f"telnet://{PUBLIC}:{PASSIVE[1] + 1}", check=False)
    assert r.returncode != 0
    # The server's own address is not reachable from the internet side at all.
    r = nat.topo.sh("client", "curl", "-sS", "--max-time", "3", f"ftp://10.0.0.2:{CONTROL_PORT}/", check=False)
    assert r.returncode != 0
    ruleset = nat.topo.sh("router", "nft", "list", "ruleset").stdout
    assert "table inet ftpsd" in ruleset and "policy drop" in ruleset
