"""The cluster test bed (bed.py): one bed for the module, built once (initdb, three nodes, HAProxy)
and torn down even when a test fails; each test starts with bed.heal(), so a node a test killed or a
PostgreSQL it stopped is back for the next. Skipped (with the reason) only without root or network
namespaces; without nftables, HAProxy or Debian's PostgreSQL (scripts/install-deps.sh installs them)
the tests fail and say what is missing."""
import pytest

from bed import Bed, missing


def pytest_collection_modifyitems(config, items):
    reason = missing()
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    b = Bed(tmp_path_factory.mktemp("bed"))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def bed(cluster):
    cluster.heal()
    return cluster
