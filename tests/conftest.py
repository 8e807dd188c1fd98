import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# tests/core modules are plain MicroPython-compatible code; make their helpers importable.
for p in (HERE, HERE / "core", HERE / "mpy"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("OPENTAG_CORPUS", str(HERE.parent.parent / "shared" / "corpus" / "gpsd"))


# ---- the server's database backends (tests/test_server_*.py) -------------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the whole session (per xdist worker). It must start:
    a machine without PostgreSQL fails here rather than skipping the PostgreSQL tests."""
    from pgcluster import PgCluster

    c = PgCluster().start()
    yield c
    c.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def server_db_url(request, tmp_path):
    """The same server test on both backends: a fresh SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/server.db"
    return request.getfixturevalue("pg_cluster").new_database()


# The virtual board and a firmware tree for the host tools' tests (tests/vboardkit.py).
from devicekit import firmware, server  # noqa: E402, F401
from vboardkit import fw, vboard  # noqa: E402, F401
