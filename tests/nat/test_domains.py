"""Two domains on two public addresses of one router: acme on 198.51.100.1 with passive ports
50000-50009, globex on 198.51.100.2 with 51000-51009. The router forwards, per public address, the
control port and that domain's passive range to the server and drops everything else. The client
reaches its domain either on one shared listener (alice@acme, or HOST) or on a listener tied to the
domain (2121 for acme, 2122 for globex, both reached as port 2121 of their public address).

    client ns 198.51.100.10 ── 198.51.100.1 (acme)    router ns  10.0.0.1 ── 10.0.0.2 server ns
                               198.51.100.2 (globex)

The router's rules are either written here, per public address, or `ftpsd firewall --nat-to`'s own
(which forwards the control port on every address of the router and each domain's passive range only
on that domain's own public address)."""
import subprocess

import pytest

from conftest import CONTROL_PORT, PASSIVE, PUBLIC, SERVER, pasv_addresses, pasv_ports

PUBLIC2 = "198.51.100.2"
ACME_PORTS, GLOBEX_PORTS, DEFAULT_PORTS = (50000, 50009), (51000, 51009), (52000, 52009)
GLOBEX_LISTENER = 2122
PASSWORDS = {"acme": "acme-alice-nat-pw", "globex": "globex-alice-nat-pw"}
HOSTS = {"acme": "ftp.acme.test", "globex": "ftp.globex.test"}


def router_rules(forwards):
    """An nftables ruleset for the router: `forwards` is [(public address, [ports], to)], where `to` is
    the server address (the ports stay) or "address:port" (for one public port). Every other connection
    to the router or through it is dropped."""
    dnat, accept = [], []
    for address, ports, to in forwards:
        dnat.append(f"ip daddr {address} tcp dport {{ {', '.join(map(str, ports))} }} dnat ip to {to}")
        server_ports = [to.split(":")[1]] if ":" in to else ports
        accept.append(f"ip daddr {SERVER} tcp dport {{ {', '.join(map(str, server_ports))} }} ct status dnat accept")
    nl = "\n    "
    return f"""table inet ftpsd_domains {{
  chain input {{
    type filter hook input priority filter; policy drop;
    ct state established,related accept
    iifname "lo" accept
    meta l4proto icmp accept
  }}
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    {nl.join(dnat)}
  }}
  chain forward {{
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state invalid drop
    {nl.join(accept)}
  }}
}}
"""


def _hash(password):
    return subprocess.run(["openssl", "passwd", "-6", password], check=True, capture_output=True,
                          text=True).stdout.strip()


class Sites:
    """The two domains' users (alice in each, her own password and root with a marker file) and config."""

    def __init__(self, nat):
        self.nat = nat
        nat.topo.sh("router", "ip", "addr", "add", f"{PUBLIC2}/24", "dev", nat.router_out)
        self.homes = {}
        for name in ("acme", "globex"):
            home = nat.tmp / f"{name}-home"
            home.mkdir()
            (home / f"{name}.txt").write_text(f"{name} marker\n")
            (nat.tmp / f"{name}-users.toml").write_text(
                f'[[users]]\nname = "alice"\npassword_hash = "{_hash(PASSWORDS[name])}"\nroot = "{home}"\n'
                f"write = true\n")
            self.homes[name] = home

    def config(self, tied_listeners):
        if tied_listeners:
            listeners = (f'[[listeners]]\naddress = "0.0.0.0:{CONTROL_PORT}"\ntls = "explicit"\ndomain = "acme"\n'
                         f'[[listeners]]\naddress = "0.0.0.0:{GLOBEX_LISTENER}"\ntls = "explicit"\n'
                         f'domain = "globex"\n')
        else:
            listeners = f'[[listeners]]\naddress = "0.0.0.0:{CONTROL_PORT}"\ntls = "explicit"\n'
        text = self.nat.config(listeners=listeners).replace(
            f'ports = "{PASSIVE[0]}-{PASSIVE[1]}"', f'ports = "{DEFAULT_PORTS[0]}-{DEFAULT_PORTS[1]}"')
        assert f"{DEFAULT_PORTS[0]}-{DEFAULT_PORTS[1]}" in text
        for name, address, ports in (("acme", PUBLIC, ACME_PORTS), ("globex", PUBLIC2, GLOBEX_PORTS)):
            text += f"""
[[domains]]
name = "{name}"
hosts = ["{HOSTS[name]}"]
users = "{self.nat.tmp / f'{name}-users.toml'}"
[domains.passive]
address = "{address}"
ports = "{ports[0]}-{ports[1]}"
"""
        return text

    def start(self, tied_listeners, router="hand-written"):
        if router == "ftpsd firewall":
            return self.nat.start(self.config(tied_listeners))
        acme, globex = (f"{p[0]}-{p[1]}" for p in (ACME_PORTS, GLOBEX_PORTS))
        if tied_listeners:  # port 2121 of the second address goes to the globex listener
            globex_rules = [(PUBLIC2, [globex], SERVER), (PUBLIC2, [CONTROL_PORT], f"{SERVER}:{GLOBEX_LISTENER}")]
        else:
            globex_rules = [(PUBLIC2, [CONTROL_PORT, globex], SERVER)]
        rules = router_rules([(PUBLIC, [CONTROL_PORT, acme], SERVER), *globex_rules])
        return self.nat.start(self.config(tied_listeners), router_rules=rules)

    def session(self, name, user, host_name=None):
        """LIST, upload, download of the upload and of the marker, through the domain's public address."""
        address = PUBLIC if name == "acme" else PUBLIC2
        r = self.nat.ftp(host=address, user=user, password=PASSWORDS[name], host_name=host_name,
                         ops=[("list",), ("stor", f"up-{name}.bin", 200), ("retr", f"up-{name}.bin"),
                              ("retr", f"{name}.txt")])
        assert r["ok"], r
        return r

    def check(self, name, r):
        address, ports = (PUBLIC, ACME_PORTS) if name == "acme" else (PUBLIC2, GLOBEX_PORTS)
        other = "globex" if name == "acme" else "acme"
        assert pasv_addresses(r["replies"]) == [address] * 4, r["replies"]
        got = pasv_ports(r["replies"])
        assert len(got) == 4 and all(ports[0] <= p <= ports[1] for p in got), got
        listing = "\n".join(r["results"][0])
        assert f"{name}.txt" in listing and f"{other}.txt" not in listing, listing
        assert r["results"][1:] == [200 * 1024, 200 * 1024, len(f"{name} marker\n")]
        assert (self.homes[name] / f"up-{name}.bin").stat().st_size == 200 * 1024
        assert not (self.homes[other] / f"up-{name}.bin").exists()
        assert not (self.nat.home / f"up-{name}.bin").exists()


@pytest.fixture
def sites(nat):
    return Sites(nat)


@pytest.mark.parametrize("by,router", [("user@domain", "hand-written"), ("HOST", "hand-written"),
                                       ("HOST", "ftpsd firewall")])
def test_shared_listener_each_domain_through_its_public_address(sites, by, router):
    srv = sites.start(tied_listeners=False, router=router)
    for name in ("acme", "globex"):
        if by == "HOST":
            r = sites.session(name, "alice", host_name=HOSTS[name])
            assert r["host_reply"].startswith("220"), r
        else:
            r = sites.session(name, f"alice@{name}")
        sites.check(name, r)
    how = "by HOST" if by == "HOST" else "by the user name"
    log = srv.log()
    assert f"domain acme ({how})" in log and f"domain globex ({how})" in log, log[-3000:]


def test_a_listener_per_domain_each_reached_on_its_public_address(sites):
    srv = sites.start(tied_listeners=True)
    for name in ("acme", "globex"):
        sites.check(name, sites.session(name, "alice"))
    log = srv.log()
    # Tied to the listener from the start: the greeting line already names the domain.
    assert f"-@acme connected to 0.0.0.0:{CONTROL_PORT}" in log, log[-3000:]
    assert f"-@globex connected to 0.0.0.0:{GLOBEX_LISTENER}" in log, log[-3000:]
    # Each public address leads to its own domain only: globex's password is wrong for acme's alice.
    r = sites.nat.ftp(host=PUBLIC, user="alice", password=PASSWORDS["globex"], ops=[])
    assert not r["ok"] and "530" in r["error"], r


@pytest.mark.parametrize("router", ["hand-written", "ftpsd firewall"])
@pytest.mark.parametrize("name", ["acme", "globex"])
def test_a_domains_passive_port_is_forwarded_on_its_own_address_only(sites, name, router):
    """While a PASV port of one domain listens on the server, a connection to that port on the other
    public address is dropped by the router; on the domain's own address it connects."""
    sites.start(tied_listeners=False, router=router)
    own, foreign = (PUBLIC, PUBLIC2) if name == "acme" else (PUBLIC2, PUBLIC)
    r = sites.nat.ftp(host=own, user=f"alice@{name}", password=PASSWORDS[name], ops=[("probe", [foreign, own], 2)])
    assert r["ok"], r
    assert r["results"] == [["timeout", "connected"]], r
