"""The tag's own uplink client (tagcore.uplink) into the real `opentag server` over loopback
HTTP, on SQLite and PostgreSQL: every record the tag stored arrives exactly once, the tag
truncates only what the server acknowledged, and an alert overtakes the backlog. The contract
(docs/uplink.md) is checked here end to end, not against either side's test double."""

from __future__ import annotations

import uplinkfaults as F
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.uplink.client import UplinkClient
from taghost.server import admin
from taghost.server.app import Config, Server, ServerThread
from taghost.server.db import Database
from test_store import MemFs, mkfix

KEY = bytes(range(40, 72))
TID = b"E2ETAG01"
T0 = 800_000_000


def exchange(c: UplinkClient, port: int, t: int) -> str | None:
    body = c.request(t)
    if body is None:
        return None
    status, reply = F.post(port, bytes(body))
    if status != 200:
        c.on_failure(t)
        return f"http {status}"
    return c.on_reply(t, reply)


def test_the_core_client_delivers_every_record_once_into_the_real_server(server_db_url) -> None:
    db = Database(server_db_url)
    srv = ServerThread(Server(db, Config())).start()
    try:
        admin.provision(db, TID.hex(), srv.server.now_ms(), KEY, 900, "e2e")
        st = Store(MemFs(), T0, max_segments=1000, seg_bytes=1024)
        c = UplinkClient(st, TID, KEY)
        stored = {st.boot_seq}
        alert = 0
        for k in range(6 * 60):  # six hours at 1 fix/min, uploads every 15 min
            t = T0 + 60 * k
            stored.add(st.append_fix(t, mkfix(k, t))[0])
            if k == 200:
                alert = st.append_event(R.EV_TAMPER, t, b"\x01")[0]
                stored.add(alert)
                c.alert(alert)
                assert exchange(c, srv.port, t) == "acked"
                with db.tx() as tx:  # the alert is at the server before the backlog drains
                    q = "SELECT seq FROM events WHERE tag = ? AND seq = ?"
                    rows = tx.execute(q, (TID.hex(), alert)).all()
                assert len(rows) == 1
            if k % 15 == 14:
                while c.due():
                    assert exchange(c, srv.port, t) == "acked"
        t = T0 + 6 * 3600
        st.flush()
        while c.due():
            assert exchange(c, srv.port, t) == "acked"
            t += 1
        with db.tx() as tx:
            tag = (TID.hex(),)
            fixes = [r[0] for r in tx.execute("SELECT seq FROM fixes WHERE tag = ?", tag).all()]
            events = [r[0] for r in tx.execute("SELECT seq FROM events WHERE tag = ?", tag).all()]
            (acked,) = tx.execute("SELECT acked FROM tags WHERE tag = ?", tag).one() or (None,)
        got = fixes + events
        assert len(got) == len(set(got))  # exactly once
        assert set(got) == stored  # every record the tag stored, nothing else
        assert acked == max(stored)
        # the tag kept only what it may: its newest segment (never deleted) and nothing below it
        # that the server did not hold
        left = {r[0] for r in st.read(1, 100_000, True)[0]}
        assert left <= stored and len(st.segs) == 1
    finally:
        srv.stop()
