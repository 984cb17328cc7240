"""HAProxy (Debian's) in the router namespace in front of ftpsd, speaking the PROXY protocol on the
control port and on the passive range; ftpsd sees the real client address."""
import shutil

import pytest

from conftest import CONTROL_PORT, LAN_SERVER, PASSIVE, PUBLIC, ROUTER_IN, SERVER
from netns import wait_for

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy")


def haproxy_config(version):
    send = "send-proxy-v2" if version == 2 else "send-proxy"
    return f"""
global
  maxconn 200
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend control
  bind {PUBLIC}:{CONTROL_PORT}
  default_backend control
backend control
  server ftpsd {SERVER}:{CONTROL_PORT} {send}
frontend data
  bind {PUBLIC}:{PASSIVE[0]}-{PASSIVE[1]}
  default_backend data
backend data
  server ftpsd {SERVER} {send}
"""


def start_haproxy(nat, version):
    cfg = nat.tmp / "haproxy.cfg"
    cfg.write_text(haproxy_config(version))
    nat.topo.spawn("router", ["haproxy", "-db", "-f", str(cfg)], nat.tmp / "haproxy.log")
    wait_for(lambda: f":{CONTROL_PORT}" in nat.topo.sh("router", "ss", "-ltn").stdout, what="haproxy")


PROXY_CONFIG = f'''address = "{PUBLIC}"
'''


@pytest.mark.parametrize("version", [1, 2])
def test_haproxy_in_front_with_proxy_protocol(nat, version):
    listeners = (f'[[listeners]]\naddress = "0.0.0.0:{CONTROL_PORT}"\ntls = "explicit"\nproxy_protocol = true\n')
    cfg = nat.config(passive=PROXY_CONFIG, listeners=listeners, extra=f'[proxy_protocol]\ntrusted = ["{ROUTER_IN}/32"]')
    srv = nat.start(cfg, router_rules="")
    start_haproxy(nat, version)
    r = nat.ftp(ops=[("list",), ("stor", "p.bin", 100), ("retr", "p.bin")])
    assert r["ok"], r
    log = srv.log()
    # The session is the client's, not the proxy's: logs, and the same-peer check on data connections.
    assert "198.51.100.10" in log
    assert "refused" not in log


def test_a_direct_connection_to_a_proxy_listener_is_refused(nat):
    listeners = (f'[[listeners]]\naddress = "0.0.0.0:{CONTROL_PORT}"\ntls = "explicit"\nproxy_protocol = true\n')
    cfg = nat.config(passive=PROXY_CONFIG, listeners=listeners, extra=f'[proxy_protocol]\ntrusted = ["{ROUTER_IN}/32"]')
    srv = nat.start(cfg, router_rules="")
    r = nat.ftp(role="lan", host=LAN_SERVER, ops=[("list",)], timeout=5)
    assert not r["ok"]
    assert "10.9.0.5 is not in proxy_protocol.trusted" in srv.log()
