"""passive.address as a host name: resolved at start, looked up again every resolve_every on a worker
thread, and a failed lookup keeps the last good address."""
from conftest import PUBLIC, pasv_addresses
from netns import wait_for

NAME = "ftp.nat.test"


def test_host_name_is_resolved_and_re_resolved_and_a_failure_keeps_the_last_address(nat):
    nat.topo.hosts("server", f"127.0.0.1 localhost\n{PUBLIC} {NAME}\n")
    srv = nat.start(nat.config(passive=f'address = "{NAME}"\nresolve_every = "1s"'))
    r = nat.ftp(ops=[("list",)])
    assert r["ok"], r
    assert pasv_addresses(r["replies"]) == [PUBLIC]

    # The name moves (dynamic DNS): PASV follows within resolve_every.
    nat.topo.hosts("server", f"127.0.0.1 localhost\n203.0.113.99 {NAME}\n")
    wait_for(lambda: f"{NAME} resolves to 203.0.113.99" in srv.log(), what="the new address")
    r = nat.ftp(ops=[("raw", "PASV")])
    assert r["results"][0].startswith("227") and "(203,0,113,99," in r["results"][0], r

    # The name disappears: the last good address stays, and the log says so.
    nat.topo.hosts("server", "127.0.0.1 localhost\n")
    wait_for(lambda: "lookup failed" in srv.log(), what="the failed lookup")
    assert "keeping 203.0.113.99" in srv.log()
    r = nat.ftp(ops=[("raw", "PASV")])
    assert "(203,0,113,99," in r["results"][0], r
