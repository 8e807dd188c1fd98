"""A tag that walks steadily (or sits still) sends packed fix runs of well under 5 bytes a
fix: constant differences pack into 0 bits (tagcore.uplink.fixcodec). The real server must
take them. Found by the whole-firmware test (tests/test_device_firmware.py): the server refused
every such batch as malformed (it applied the store codec's 5-bytes-a-fix floor to packed runs
too), so a tag at home never got an upload through. Failed before the fix in wire._record."""

from __future__ import annotations

import tempfile

import uplinkfaults as F
from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.fix import Fix
from tagcore.store.log import Store
from tagcore.uplink.client import ACKED, UplinkClient
from taghost.server import admin, wire
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database
from test_store import MemFs

KEY = bytes(range(7, 39))
TID = b"STEADY01"
T0 = 849_000_000


def steady(k: int, t: int, dlat: int, dlon: int) -> Fix:
    return Fix(t, 0, 50726000 + k * dlat, -1879500 + k * dlon, 520, 30, 9000, 36, 9, 9, 1, 3, 0)


@settings(max_examples=10, deadline=None)
@given(dlat=st.integers(-50, 50), dlon=st.integers(-50, 50), n=st.integers(48, 200))
def test_a_steady_walk_uploads_whole_into_the_real_server(dlat: int, dlon: int, n: int) -> None:
    tmp = tempfile.mkdtemp()
    db = Database(f"sqlite:///{tmp}/server.db")
    srv = ServerThread(Server(db, Config())).start()
    try:
        admin.provision(db, TID.hex(), srv.server.now_ms(), KEY, 900, "steady")
        store = Store(MemFs(), T0)
        c = UplinkClient(store, TID, KEY)
        for k in range(n):
            store.append_fix(T0 + 60 * k, steady(k, T0 + 60 * k, dlat, dlon))
        store.flush()
        t = T0 + 60 * n
        small = False
        while c.due():
            body = c.request(t)
            assert body is not None
            small = small or c.last_bytes < 5 * c.last_fixes
            status, reply = F.post(srv.port, bytes(body))
            assert status == 200, reply
            assert c.on_reply(t, reply) == ACKED
            t += 1
        assert small  # the case that was refused: fewer than 5 bytes a fix
        with db.tx() as tx:
            got = tx.execute("SELECT COUNT(*) FROM fixes WHERE tag = ?", (TID.hex(),)).one()
        assert got is not None and got[0] == n
    finally:
        srv.stop()


def test_a_packed_run_claiming_more_fixes_than_a_run_holds_is_still_refused() -> None:
    # the floor guarded against a count the bytes cannot hold: keep a bound on packed runs
    import pytest

    with pytest.raises(wire.Refused):
        wire._record([wire.PACKED_FIX_RUN, 1, 1, 10**6, b"\x00" * 16])
