"""Ingest: verify a batch, insert its records once, answer with the contiguous acknowledgement.

Idempotent by construction: fixes and events are keyed by (tag, seq) and inserted with
`ON CONFLICT DO NOTHING`, so a retried, duplicated or overlapping batch stores nothing twice.
The acknowledged point only moves over sequence ranges covered by verified batches
(docs/uplink.md, "Coverage"); ranges that arrive ahead of a gap wait in `coverage`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import Any

from tagcore.store import record as R

from taghost import alertkinds as K
from taghost.server import proximity, seals, wire
from taghost.server.alerts import ends_alert, meaning
from taghost.server.db import Database, Tx
from taghost.server.wire import Batch, Event, FixRun, Refused
from taghost.units import UNIX_2000

log = logging.getLogger("opentag.server")


FIX_COLS = (
    "tag, seq, batch_id, t, ms, lat, lon, alt_dm, speed_cms, course_cd, acc_dm, hdop_c, "
    "sats, quality, mode, flags, rx_ms"
)
INSERT_FIX = f"INSERT INTO fixes ({FIX_COLS})"
INSERT_EVENT = "INSERT INTO events (tag, seq, batch_id, kind, t, data, rx_ms)"
INSERT_ALERT = "INSERT INTO alerts (tag, kind, source, seq, t, raised_ms, data, subject)"
ON_SEQ = "ON CONFLICT (tag, seq) DO NOTHING"
# Column types for PostgreSQL's unnest (Tx.insert_rows), in the order of the columns above.
FIX_TYPES = ["text"] + ["bigint"] * 3 + ["int"] + ["bigint"] * 7 + ["int"] * 3 + ["bigint"] * 2
EVENT_TYPES = ["text", "bigint", "bigint", "int", "bigint", "bytea", "bigint"]
ALERT_TYPES = ["text", "text", "text", "bigint", "bigint", "bigint", "bytea", "text"]


def ms_2000(unix_s: float) -> int:
    """Server clock (Unix seconds) as milliseconds since 2000-01-01 UTC."""
    return round((unix_s - UNIX_2000) * 1000)


def advance(tx: Tx, tag: str, acked: int, first: int, last: int, waiting: bool) -> int:
    """The new acknowledged point after a verified batch covering [first, last]; `waiting`:
    the tag has ranges in `coverage` (without, a contiguous batch needs no query)."""
    if first <= acked + 1:
        acked = max(acked, last)
        if not waiting:
            return acked
    else:  # ahead of a gap: wait until the gap is covered
        tx.execute(
            "INSERT INTO coverage (tag, first_seq, last_seq) VALUES (?, ?, ?) "
            "ON CONFLICT (tag, first_seq, last_seq) DO NOTHING",
            (tag, first, last),
        )
    while True:
        r = tx.execute(
            "SELECT MAX(last_seq) FROM coverage WHERE tag = ? AND first_seq <= ?",
            (tag, acked + 1),
        ).one()
        if r is None or r[0] is None:
            return acked
        if int(r[0]) <= acked:
            break
        acked = int(r[0])
    tx.execute("DELETE FROM coverage WHERE tag = ? AND first_seq <= ?", (tag, acked + 1))
    return acked


def finished(results: list[tuple[int, bytes, str] | None]) -> list[tuple[int, bytes, str]]:
    out = [r for r in results if r is not None]
    assert len(out) == len(results)
    return out


# Event kinds whose meaning can end an open alert (taghost.server.alerts.meaning).
ENDING_KINDS = (R.EV_ZONE, R.EV_LOC_LOST, R.EV_PROXIMITY, R.EV_INTEGRITY)


def _ended_after(tx: Tx, tag: str, kind: str, seq: int, subject: str) -> bool:
    """Whether an event stored after `seq` ends the alert `kind` about `subject` opened at
    seq: batches arrive out of order, so an end can be stored before the alert it ends."""
    marks = ", ".join("?" * len(ENDING_KINDS))
    rows = tx.execute(
        f"SELECT kind, t, data FROM events WHERE tag = ? AND seq > ? AND kind IN ({marks})",
        (tag, seq, *ENDING_KINDS),
    ).all()
    for k, t, data in rows:
        m = meaning(int(k), int(t), bytes(data))
        if m is not None and ends_alert(m, kind, subject):
            return True
    return False


class Ingest:
    """POST /v1/up without HTTP: bytes in, (status, body, content type) out. Thread-safe."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # ingest runs in several threads on PostgreSQL

    def refuse(self, reason: str) -> None:
        """Count a refusal (also those decided outside: the HTTP layer's too large, too slow)."""
        with self._lock:
            self.counts["refused_" + reason] += 1

    def handle(self, body: bytes, now_ms: int) -> tuple[int, bytes, str]:
        return self.handle_many([body], now_ms)[0]

    def handle_many(self, bodies: list[bytes], now_ms: int) -> list[tuple[int, bytes, str]]:
        """Several requests in one transaction (group commit: one disk sync for all of them).
        Every refusal is decided before a request writes anything, so a refused request leaves
        no trace in the group; nothing is acknowledged before the commit returns. If the group
        fails in the database, each request is tried alone, so one cannot sink the others."""
        results: list[tuple[int, bytes, str] | None] = [None] * len(bodies)
        work: list[tuple[int, wire.Envelope]] = []
        for i, body in enumerate(bodies):
            try:
                if len(body) > wire.MAX_BODY:
                    raise Refused(413, "too_large")
                work.append((i, wire.open_envelope(body)))
            except Refused as r:
                results[i] = self._refused(r)
        # One lock order for every group (by tag id): concurrent groups never deadlock.
        work.sort(key=lambda w: w[1].kid)
        groups = [work]
        while groups:
            group = groups.pop()
            outcome = self._group(group, bodies, now_ms)
            if outcome is None:  # the database failed the transaction
                if len(group) > 1:
                    groups += [[w] for w in group]
                    continue
                self.refuse("server_error")
                results[group[0][0]] = (500, b'{"error": "server_error"}', "application/json")
                continue
            for i, res in outcome:
                results[i] = res
        return finished(results)

    def _group(
        self, group: list[tuple[int, wire.Envelope]], bodies: list[bytes], now_ms: int
    ) -> list[tuple[int, tuple[int, bytes, str]]] | None:
        refused: list[tuple[int, Refused]] = []
        done: list[tuple[int, Counter[str], tuple[bytes, bytes, int, int, list[Any]]]] = []
        try:
            with self.db.tx() as tx:
                for i, env in group:
                    c: Counter[str] = Counter()
                    try:
                        done.append((i, c, self._ingest(tx, env, bodies[i], now_ms, c)))
                    except Refused as r:
                        refused.append((i, r))
        except Exception:
            log.exception("ingest failed")
            return None
        out = [(i, self._refused(r)) for i, r in refused]
        for i, c, (key, kid, ctr, acked, down) in done:
            with self._lock:
                self.counts.update(c)
                self.counts["accepted"] += 1
            ack = wire.encode_ack(key, kid, ctr, acked, now_ms // 1000, down)
            out.append((i, (200, ack, "application/cose")))
        return out

    def _refused(self, r: Refused) -> tuple[int, bytes, str]:
        self.refuse(r.reason)
        return r.status, json.dumps({"error": r.reason}).encode(), "application/json"

    def _ingest(
        self, tx: Tx, env: wire.Envelope, body: bytes, now_ms: int, c: Counter[str]
    ) -> tuple[bytes, bytes, int, int, list[Any]]:
        tag = env.kid.hex()
        row = tx.lock_tag(tag)
        if row is None:
            raise Refused(403, "not_provisioned")
        key = bytes(row[1])
        batch = wire.parse_batch(wire.verify(env, key), env.kid)
        max_ctr, acked = int(row[2]), int(row[3])
        waiting, queued, open_alert = bool(row[5]), bool(row[6]), bool(row[7])
        victims = bool(row[8])  # a victim is linked: the server's GNSS proximity rule runs
        if batch.ctr < max_ctr:
            raise Refused(409, "replayed")
        sealed = seals.check(tx, tag, env.kid, batch, c)  # docs/evidence.md; raises Refused
        st = seals.state(tx, tag)
        seals.check_late(tx, tag, batch, sealed, st, c)  # records whose seal came first
        # Nothing is written above this line: a refusal leaves the transaction as it was.
        if batch.ctr == max_ctr and self._same_as_stored(tx, tag, batch.ctr, body):
            c["duplicate_batches"] += 1
        else:
            acked = self._store(tx, tag, batch, body, acked, now_ms, c, waiting, sealed, st)
        tx.execute(
            "UPDATE tags SET max_ctr = ?, acked = ?, last_rx_ms = ?, last_sent = ? WHERE tag = ?",
            (max(max_ctr, batch.ctr), acked, now_ms, batch.sent, tag),
        )
        if open_alert:
            tx.execute(
                "UPDATE alerts SET cleared_ms = ? WHERE tag = ? AND source = 'server' "
                "AND kind = ? AND cleared_ms IS NULL",
                (now_ms, tag, K.COMM_LOST),
            )
        if victims:  # taghost.server.proximity: after `acked` moved
            for what, _ in proximity.guarded(tx, proximity.evaluate_tag, tag, now_ms):
                c[proximity.counter(what)] += 1
        tx.many(
            "INSERT INTO held (tag, kind, version, since_ms) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (tag, kind) DO UPDATE SET version = excluded.version, "
            "since_ms = excluded.since_ms WHERE held.version <> excluded.version",
            [(tag, k, v, now_ms) for k, v in sorted(batch.held.items())],
        )
        down: list[tuple[int, int, bytes]] = []
        if queued:
            pending = tx.execute(
                "SELECT kind, version, data FROM downlink WHERE tag = ? ORDER BY kind", (tag,)
            ).all()
            down = [
                (int(k), int(v), bytes(d))
                for k, v, d in pending
                if int(v) > batch.held.get(int(k), 0)
            ]
        c["downlink_items_sent"] += len(down)
        return key, env.kid, batch.ctr, acked, down

    def _same_as_stored(self, tx: Tx, tag: str, ctr: int, body: bytes) -> bool:
        r = tx.execute(
            "SELECT raw FROM batches WHERE tag = ? AND ctr = ? ORDER BY id DESC LIMIT 1",
            (tag, ctr),
        ).one()
        return r is not None and bytes(r[0]) == body

    def _store(
        self,
        tx: Tx,
        tag: str,
        b: Batch,
        body: bytes,
        acked: int,
        now_ms: int,
        c: Counter[str],
        waiting: bool,
        sealed: seals.Checked | None = None,
        st: seals.SealState | None = None,
    ) -> int:
        r = tx.execute(
            "INSERT INTO batches (tag, ctr, sent, first_seq, last_seq, rx_ms, raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (tag, b.ctr, b.sent, b.first, b.last, now_ms, body),
        ).one()
        assert r is not None
        bid = int(r[0])
        if sealed is not None:
            seals.store(tx, tag, bid, sealed)
        if st is not None:
            seals.flag(tx, tag, b, sealed, st, now_ms, c, acked)
        fixes: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for rec in b.recs:
            if isinstance(rec, FixRun):
                for k, f in enumerate(rec.fixes):
                    fixes.append((tag, rec.seq + k * rec.stride, bid, *f, now_ms))
            else:
                assert isinstance(rec, Event)
                events.append((tag, rec.seq, bid, rec.kind, rec.t, rec.data, now_ms))
        new = tx.insert_rows(INSERT_FIX, FIX_TYPES, fixes, ON_SEQ)
        new += tx.insert_rows(INSERT_EVENT, EVENT_TYPES, events, ON_SEQ)
        c["records_new"] += new
        c["records_duplicate"] += len(fixes) + len(events) - new
        opened = []
        for e in events:
            m = meaning(e[3], e[4], e[5])
            if m is None:
                continue
            if m.opens:
                opened.append((tag, m.opens, "tag", e[1], e[4], now_ms, e[5], m.subject))
            for ends in m.ends:  # idempotent: only alerts opened before this event (by seq)
                tx.execute(
                    "UPDATE alerts SET cleared_ms = ? WHERE tag = ? AND kind = ? AND subject = ? "
                    "AND source = 'tag' AND seq < ? AND cleared_ms IS NULL",
                    (now_ms, tag, ends, m.subject, e[1]),
                )
        tx.insert_rows(INSERT_ALERT, ALERT_TYPES, opened, ON_SEQ)
        for o in opened:  # its end may be stored already: same batch, or a batch taken earlier
            if _ended_after(tx, tag, o[1], o[3], o[7]):
                tx.execute(
                    "UPDATE alerts SET cleared_ms = ? WHERE tag = ? AND seq = ? "
                    "AND source = 'tag' AND cleared_ms IS NULL",
                    (now_ms, tag, o[3]),
                )
        if b.last < b.first:  # a poll covering nothing
            return acked
        return advance(tx, tag, acked, b.first, b.last, waiting)
