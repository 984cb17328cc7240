"""[cluster]: users in PostgreSQL (README "Running a cluster"), against a PostgreSQL the test starts
itself (postgres.py): the schema and its version, import and export of users files, the user
commands on the database, logins checked in it, and logins while it is down (the cache, 421) and
after it is back."""
import ftplib
import tomllib

import pytest

from conftest import BIN, PASSWORDS, password_hash
from helpers import Control, TIMEOUT, login, run, wait_for
from postgres import postgres  # noqa: F401 (the module's PostgreSQL fixture)

# The schema's steps (src/cluster/schema.cpp): version, description.
SCHEMA = [(1, "users"), (2, "nodes"), (3, "session ends"), (4, "bans"), (5, "admins"), (6, "audit"),
          (7, "audit index"), (8, "shared passive settings"), (9, "node plans")]
SCHEMA_VERSION = SCHEMA[-1][0]
UNAVAILABLE = ("421 The user database is unreachable and your account is not cached on this server; try "
               "again later.")


def cluster_table(pg, database, extra="", node="node-a"):
    return (f'[cluster]\ndatabase = "{pg.url(database)}"\npassword_file = "{pg.password_file}"\n'
            f'node = "{node}"\n{extra}')


@pytest.fixture
def cluster_server(make_server, postgres):  # noqa: F811
    """make(extra_cluster="") -> (server, database): ftpsd with [cluster] on a new, empty database."""
    def make(extra_cluster=""):
        database = postgres.new_database()
        srv = make_server(extra=cluster_table(postgres, database, extra_cluster))
        return srv, database
    return make


def ftpsd(*args, input=None, check=True):
    return run([BIN, *[str(a) for a in args]], input=input, check=check, timeout=60)


def config_of(srv):
    return srv.base / "ftpsd.toml"


def import_users(srv):
    return ftpsd("cluster", "import", "--config", config_of(srv), "--users", srv.base / "users.toml")


def login_reply(srv, user, password=None):
    """The reply to PASS (a fresh connection)."""
    with Control.to(srv) as c:
        c.expect(f"USER {user}", "331")
        return c.cmd(f"PASS {password if password is not None else PASSWORDS[user]}").strip()


def test_init_is_idempotent_and_records_the_schema_version(tmp_path, postgres):  # noqa: F811
    database = postgres.new_database()
    config = tmp_path / "ftpsd.toml"
    config.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n' + cluster_table(postgres, database))
    first = ftpsd("cluster", "init", "--config", config)
    assert first.stdout.decode() == f"cluster database: schema created (version {SCHEMA_VERSION})\n"
    second = ftpsd("cluster", "init", "--config", config)
    assert second.stdout.decode() == f"cluster database: schema already at version {SCHEMA_VERSION}; nothing to do\n"
    applied = postgres.psql("SELECT version, description FROM ftpsd_schema ORDER BY version", database)
    assert applied == "\n".join(f"{v}|{d}" for v, d in SCHEMA)
    key = postgres.psql("SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_index i JOIN pg_attribute a "
                        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                        "WHERE i.indrelid = 'users'::regclass AND i.indisprimary", database)
    assert key == "domain,name"


def test_init_reports_an_unreachable_database(tmp_path, postgres):  # noqa: F811
    config = tmp_path / "ftpsd.toml"
    config.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n'
                      f'[cluster]\ndatabase = "postgresql://ftpsd@127.0.0.1:{postgres.port}/nosuchdb"\n'
                      f'password_file = "{postgres.password_file}"\n')
    p = ftpsd("cluster", "init", "--config", config, check=False)
    assert p.returncode == 1
    assert p.stderr.decode().startswith("ftpsd: cannot connect to the cluster database: ")
    assert "nosuchdb" in p.stderr.decode()


def test_import_then_logins_are_checked_in_the_database(cluster_server, postgres):  # noqa: F811
    srv, database = cluster_server()
    # alice is in the users file the configuration names, but with [cluster] only the database counts.
    assert login_reply(srv, "alice") == "530 Login incorrect."
    out = import_users(srv).stdout.decode()
    assert "added user alice\nadded user bob\n" in out
    assert out.endswith("2 added, 0 updated\n")
    ftp = login(srv, "alice")
    assert ftp.pwd() == "/"
    ftp.quit()
    assert login_reply(srv, "bob", "not-the-password") == "530 Login incorrect."
    assert login_reply(srv, "nobody", "whatever") == "530 Login incorrect."
    # Again: every name exists, and the output says so.
    again = import_users(srv).stdout.decode()
    assert "updated user alice (it existed in domain default: its keys were replaced)" in again
    assert again.endswith("0 added, 2 updated\n")
    rows = postgres.psql('SELECT domain, name, "write", enabled FROM users ORDER BY name', database)
    assert rows == "default|alice|t|t\ndefault|bob|f|t"
    assert f"cluster: connected to the user database (node node-a, schema version {SCHEMA_VERSION})" in srv.log()


def test_user_add_and_remove_apply_to_new_logins_without_restart(cluster_server):
    srv, _ = cluster_server()
    home = srv.base / "home" / "carol"
    home.mkdir(parents=True)
    assert login_reply(srv, "carol", "carol-secret") == "530 Login incorrect."
    added = ftpsd("user", "add", "carol", "--root", home, "--write", "--config", config_of(srv),
                  input=b"carol-secret\n")
    assert added.stdout.decode() == (f"added user carol (root {home}, read-write) to domain default of the "
                                     "cluster database\n")
    twice = ftpsd("user", "add", "carol", "--root", home, "--config", config_of(srv), input=b"x\n", check=False)
    assert twice.returncode == 1
    assert twice.stderr.decode() == "ftpsd: user 'carol' already exists in domain default of the cluster database\n"
    listed = ftpsd("user", "list", "--config", config_of(srv)).stdout.decode()
    assert listed == f"carol\tread-write\t{home}\n"
    ftp = ftplib.FTP()
    ftp.connect(srv.host, srv.port, timeout=TIMEOUT)
    ftp.login("carol", "carol-secret")
    ftp.storbinary("STOR up.txt", __import__("io").BytesIO(b"from the database"))
    ftp.quit()
    assert (home / "up.txt").read_bytes() == b"from the database"
    removed = ftpsd("user", "remove", "carol", "--config", config_of(srv))
    assert removed.stdout.decode() == "removed user carol from domain default of the cluster database\n"
    assert login_reply(srv, "carol", "carol-secret") == "530 Login incorrect."
    gone = ftpsd("user", "remove", "carol", "--config", config_of(srv), check=False)
    assert gone.returncode == 1
    assert gone.stderr.decode() == "ftpsd: no user 'carol' in domain default of the cluster database\n"


def test_export_round_trips_through_the_file_store(cluster_server, make_server, tmp_path):
    srv, _ = cluster_server()
    import_users(srv)
    exported = tmp_path / "exported-users.toml"
    out = ftpsd("cluster", "export", "--config", config_of(srv), "--users", exported).stdout.decode()
    assert out == f"exported 2 users of domain default to {exported}\n"
    assert exported.stat().st_mode & 0o777 == 0o600
    users = {u["name"]: u for u in tomllib.loads(exported.read_text())["users"]}
    assert users["alice"] == {"name": "alice", "password_hash": password_hash("alice"),
                              "root": str(srv.root("alice")), "write": True}
    assert users["bob"]["write"] is False
    # Standard output carries the same file.
    assert ftpsd("cluster", "export", "--config", config_of(srv)).stdout.decode() == exported.read_text()
    # A server without [cluster] reads it as its users file.
    plain = make_server(config=f'[[listeners]]\naddress = "127.0.0.1:0"\n[users]\nfile = "{exported}"\n'
                               '[bans]\nlogin_delay = "0s"\n')
    ftp = login(plain, "alice")
    assert ftp.pwd() == "/"
    ftp.quit()
    # Imported into another domain, then exported from it: the same users.
    config = config_of(srv)
    config.write_text(config.read_text() + '\n[[domains]]\nname = "other"\nhosts = ["other.test"]\n')
    ftpsd("cluster", "import", "--config", config, "--users", exported, "--domain", "other")
    again = ftpsd("cluster", "export", "--config", config, "--domain", "other").stdout.decode()
    assert tomllib.loads(again) == tomllib.loads(exported.read_text())
    unknown = ftpsd("cluster", "export", "--config", config, "--domain", "nope", check=False)
    assert unknown.returncode == 2
    assert unknown.stderr.decode().startswith("ftpsd: no domain 'nope' in ")


def test_database_down_serves_cached_users_then_comes_back(cluster_server, postgres):  # noqa: F811
    srv, _ = cluster_server()
    import_users(srv)
    login(srv, "alice").quit()  # verified against the database: now in this node's cache
    postgres.stop()
    try:
        ftp = login(srv, "alice")  # served from the cache
        assert ftp.pwd() == "/"
        ftp.quit()
        assert login_reply(srv, "alice", "wrong") == "530 Login incorrect."  # the cached hash still decides
        with Control.to(srv) as c:
            c.expect("USER bob", "331")
            assert c.cmd(f"PASS {PASSWORDS['bob']}").strip() == UNAVAILABLE
            assert c.closed_within(10)
        assert wait_for(lambda: "cluster: the user database is unreachable" in srv.log(), 10)
        assert "login of user 'bob' not possible: the user database is unreachable" in srv.log()
    finally:
        postgres.start()
    # Back without a restart: bob logs in once the node has reconnected (it retries at most once a second).
    assert wait_for(lambda: login_reply(srv, "bob").startswith("230"), 20), srv.log()[-3000:]
    log = srv.log()
    assert log.count("cluster: the user database is unreachable") == 1, log
    assert log.count("cluster: the user database is reachable again") == 1, log


def test_without_the_database_at_start_the_server_runs_and_connects_later(make_server, postgres):  # noqa: F811
    database = postgres.new_database()
    postgres.stop()
    try:
        srv = make_server(extra=cluster_table(postgres, database))
        assert "cluster: the user database is unreachable" in srv.log()
        assert login_reply(srv, "alice") == UNAVAILABLE
    finally:
        postgres.start()
    import_users(srv)
    assert wait_for(lambda: login_reply(srv, "alice").startswith("230"), 20), srv.log()[-3000:]
    assert "cluster: the user database is reachable again" in srv.log()


@pytest.mark.parametrize("table, line, message", [
    ('[cluster]\ndatabase = 5\n', 5, "key 'cluster.database': expected a string"),
    ('[cluster]\nnode = "n1"\n', 4,
     "key 'cluster.database': the database's libpq connection string is needed, such as "
     '"postgresql://ftpsd@db/ftpsd"'),
    ('[cluster]\ndatabase = "postgresql://ftpsd:secret@db/ftpsd"\n', 5,
     "key 'cluster.database': no password in the connection string: put it in cluster.password_file (or "
     "PGPASSFILE)"),
    ('[cluster]\ndatabase = "host=db password=secret"\n', 5,
     "key 'cluster.database': no password in the connection string: put it in cluster.password_file (or "
     "PGPASSFILE)"),
    ('[cluster]\ndatabase = "host=db"\ncache_ttl = "soon"\n', 6,
     "key 'cluster.cache_ttl': expected a duration such as \"30s\", \"5m\" or \"1h\""),
    ('[cluster]\ndatabase = "host=db"\nnodes = "n1"\n', 6, "key 'cluster.nodes': unknown key"),
])
def test_a_malformed_cluster_key_names_file_and_line(tmp_path, table, line, message):
    config = tmp_path / "ftpsd.toml"
    config.write_text('[[listeners]]\naddress = "127.0.0.1:0"\n\n' + table)
    p = ftpsd("check-config", config, check=False)
    assert p.returncode == 2
    assert f"{config}:{line}: {message}" in p.stderr.decode()
    started = run([BIN, "run", "--config", str(config)], check=False, timeout=60)
    assert started.returncode == 2
    assert f"{config}:{line}: {message}" in started.stderr.decode()
