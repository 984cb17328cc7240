"""`ftpsd firewall` and `ftpsd check-config` on a configuration with two [[domains]]: every domain's
control ports and passive range in every rule format, --domain for one domain's share, and the NAT
findings of a domain naming it."""
import pytest

from conftest import BIN
from helpers import run

CONFIG = """[[listeners]]
address = "0.0.0.0:21"
tls = "none"
[[listeners]]
address = "0.0.0.0:2122"
tls = "none"
domain = "acme"

[server]
max_sessions = 50

[passive]
ports = "50000-50099"
address = "198.51.100.1"

[[domains]]
name = "acme"
hosts = ["ftp.acme.example"]
[domains.passive]
ports = "51000-51099"
advertised_ports = "41000-41099"
address = "203.0.113.7"

[[domains]]
name = "beta"
hosts = ["ftp.beta.example"]
"""


def ftpsd(*args):
    return run([BIN, *args], check=False, timeout=60)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "ftpsd.toml"
    path.write_text(CONFIG)
    return path


def out(p):
    assert p.returncode == 0, p.stderr
    return p.stdout.decode()


def test_text_says_per_domain_what_to_open(config):
    text = out(ftpsd("firewall", "-c", str(config)))
    rows = [line.split(None, 3) for line in text.splitlines() if line.startswith("  inbound ")]
    assert [r[2:] for r in rows] == [
        ["21", "FTP control (clear text)"],
        ["2122", "FTP control (clear text) of domain acme"],
        ["50000-50099", "passive data ports of domains default, beta"],
        ["51000-51099", "passive data ports of domain acme (the router forwards external 41000-41099 of "
                        "203.0.113.7 to these)"],
    ], text
    assert "\nPer domain (inbound):\n" \
           "  default: TCP 21 (control), 50000-50099 (passive data)\n" \
           "  acme (ftp.acme.example): TCP 21, 2122 (control), 51000-51099 (passive data; the router forwards " \
           "external 41000-41099 of 203.0.113.7)\n" \
           "  beta (ftp.beta.example): TCP 21 (control), 50000-50099 (passive data, the default domain's " \
           "range)\n" in text, text


@pytest.mark.parametrize("fmt,needles", [
    ("nftables", ['tcp dport 21 accept comment "FTP control (clear text)"',
                  'tcp dport 2122 accept comment "FTP control (clear text) of domain acme"',
                  'tcp dport 50000-50099 accept comment "passive data ports of domains default, beta"',
                  'tcp dport 51000-51099 accept comment "passive data ports of domain acme"']),
    ("iptables", ["--dport 21 -j ACCEPT", "--dport 2122 -j ACCEPT", "--dport 50000:50099 -j ACCEPT",
                  "--dport 51000:51099 -j ACCEPT  # passive data ports of domain acme",
                  "# on the router: forward TCP 41000-41099 of 203.0.113.7 to the server's 51000-51099"]),
    ("ufw", ["to any port 2122 comment", "to any port 50000:50099 comment 'ftpsd passive data ports of domains",
             "to any port 51000:51099 comment 'ftpsd passive data ports of domain acme'"]),
    ("firewalld", ["--add-port=21/tcp", "--add-port=2122/tcp", "--add-port=50000-50099/tcp",
                   "--add-port=51000-51099/tcp"]),
])
def test_every_format_covers_both_domains(config, fmt, needles):
    text = out(ftpsd("firewall", "-c", str(config), "--format", fmt))
    for needle in needles:
        assert needle in text, (needle, text)


def test_router_rules_forward_a_domains_range_from_its_own_address(config):
    text = out(ftpsd("firewall", "-c", str(config), "--format", "nftables", "--nat-to", "10.0.0.2"))
    assert "ip daddr 203.0.113.7 tcp dport 41000-41099 dnat ip to 10.0.0.2 : tcp dport map { 41000 : 51000, " \
           in text, text
    assert 'fib daddr type local tcp dport 50000-50099 dnat ip to 10.0.0.2 comment "passive data ports of ' \
           'domains default, beta"' in text, text
    assert "ip daddr 10.0.0.2 tcp dport 51000-51099 ct status dnat accept" in text, text


def test_domain_option_prints_only_that_domains_share(config):
    text = out(ftpsd("firewall", "-c", str(config), "--domain", "beta", "--format", "nftables"))
    assert "tcp dport 21 accept" in text and "tcp dport 50000-50099 accept" in text, text
    assert "2122" not in text and "51000" not in text, text
    text = out(ftpsd("firewall", "-c", str(config), "--domain", "acme", "--format", "firewalld"))
    assert "--add-port=21/tcp" in text and "--add-port=2122/tcp" in text, text
    assert "--add-port=51000-51099/tcp" in text and "50000" not in text, text


def test_unknown_domain_is_an_error_listing_the_domains(config):
    p = ftpsd("firewall", "-c", str(config), "--domain", "gamma")
    assert p.returncode == 2
    assert p.stdout == b""
    assert p.stderr.decode() == "ftpsd: --domain: no domain is named 'gamma' (the domains: default, acme, beta)\n"


def test_check_config_names_the_domain_of_a_finding(config):
    config.write_text(CONFIG.replace('address = "203.0.113.7"', 'address = "192.168.1.7"'))
    p = ftpsd("check-config", str(config))
    assert p.returncode == 0, p.stderr
    line = CONFIG.splitlines().index('address = "203.0.113.7"') + 1
    assert f"{config}:{line}: warning: domains[0].passive.address: domain acme: 192.168.1.7 is a private " \
           "address" in p.stderr.decode(), p.stderr
