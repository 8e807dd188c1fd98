"""Victims: provisioning, and the endpoint her phone posts her positions to.

`POST /v1/victims/{id}/positions` (docs/server.md, "Victim proximity"): one position per
request, a COSE_Mac0 under her own key with her own aad (wire.VICTIM_UP_AAD), a counter that
only goes up (the replay defence, as a tag's batch counter), answered with a MACed receipt.
Every refusal is decided before anything is written. Her positions are compared with the tag's
fixes here (taghost.server.proximity) and go nowhere else: not to the tag, not into any answer.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter

from taghost.server import admin, proximity, wire
from taghost.server.admin import AdminError
from taghost.server.db import Database, Tx
from taghost.server.wire import Refused

log = logging.getLogger("opentag.server")

Answer = tuple[int, bytes, str]


def add_victim(
    db: Database,
    tag: str,
    now_ms: int,
    key: bytes | None = None,
    label: str = "",
    alert_m: int = proximity.DEFAULT_ALERT_M,
    prealert_m: int | None = None,
    max_age_s: int = proximity.DEFAULT_MAX_AGE_S,
) -> tuple[int, bytes]:
    """Register a victim linked to `tag` with her own MAC key (32 random bytes unless given);
    returns her id and the key (shown once: give it to her phone). The pre-alert distance is
    twice the alert distance unless given (France's rule; 1,000 m for the default 500 m)."""
    tag = admin.parse_tag(tag)
    key = os.urandom(wire.KEY_LEN) if key is None else key
    if len(key) != wire.KEY_LEN:
        raise AdminError(f"a victim key is {wire.KEY_LEN} bytes, not {len(key)}")
    if not 1 <= alert_m <= 100_000:
        raise AdminError(f"the alert distance is 1-100000 m, not {alert_m}")
    if prealert_m is None:
        prealert_m = 2 * alert_m
    if not alert_m <= prealert_m <= 200_000:
        raise AdminError(f"the pre-alert distance is {alert_m}-200000 m, not {prealert_m}")
    if not 10 <= max_age_s <= 3600:
        raise AdminError(f"the maximum age is 10-3600 s, not {max_age_s}")
    with db.tx() as tx:
        if tx.lock_tag(tag) is None:
            raise AdminError(f"tag {tag} is not provisioned")
        r = tx.execute(
            "INSERT INTO victims (tag, mac_key, label, alert_m, prealert_m, max_age_s, "
            "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (tag, key, label, alert_m, prealert_m, max_age_s, now_ms),
        ).one()
    assert r is not None
    return int(r[0]), key


def upload_every_s(db: Database, tag: str) -> int | None:
    with db.tx() as tx:
        r = tx.execute(
            "SELECT upload_every_s FROM tags WHERE tag = ?", (admin.parse_tag(tag),)
        ).one()
    return None if r is None else int(r[0])


class Victims:
    """POST /v1/victims/{id}/positions without HTTP: bytes in, (status, body, type) out."""

    def __init__(
        self,
        db: Database,
        counts: Counter[str] | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.db = db
        self.counts: Counter[str] = Counter() if counts is None else counts  # the server's
        self._lock = threading.Lock() if lock is None else lock

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counts[name] += n

    def refused(self, r: Refused) -> Answer:
        self.count("refused_victim_" + r.reason)
        return r.status, json.dumps({"error": r.reason}).encode(), "application/json"

    def handle(self, victim: int, body: bytes, now_ms: int) -> Answer:
        try:
            if len(body) > wire.VICTIM_MAX_BODY:
                raise Refused(413, "too_large")
            env = wire.open_envelope(body)
            if env.kid != wire.victim_kid(victim):
                raise Refused(400, "malformed")
        except Refused as r:
            return self.refused(r)
        try:
            with self.db.tx() as tx:
                key, ctr, changes, dup = self._take(tx, victim, env, body, now_ms)
        except Refused as r:
            return self.refused(r)
        except Exception:
            log.exception("victim position failed")
            self.count("refused_victim_server_error")
            return 500, b'{"error": "server_error"}', "application/json"
        self.count("victim_duplicates" if dup else "victim_positions")
        for what, _ in changes:
            self.count(proximity.counter(what))
        ack = wire.encode_victim_ack(key, victim, ctr, now_ms // 1000)
        return 200, ack, "application/cose"

    def _take(
        self, tx: Tx, victim: int, env: wire.Envelope, body: bytes, now_ms: int
    ) -> tuple[bytes, int, list[tuple[str, str]], bool]:
        r = tx.execute("SELECT tag FROM victims WHERE id = ?", (victim,)).one()
        if r is None:
            raise Refused(403, "not_provisioned")
        tag = str(r[0])
        tx.lock_tag(tag)  # one lock order with the tag's ingest: the tag's row first
        r = tx.execute("SELECT mac_key, max_ctr FROM victims WHERE id = ?", (victim,)).one()
        assert r is not None
        key, max_ctr = bytes(r[0]), int(r[1])
        p = wire.parse_position(wire.verify(env, key, wire.VICTIM_UP_AAD), victim)
        if p.ctr <= max_ctr:
            same = tx.execute(
                "SELECT raw FROM victim_positions WHERE victim = ? AND ctr = ?", (victim, p.ctr)
            ).one()
            if same is not None and bytes(same[0]) == body:  # a retry: answered again
                return key, p.ctr, [], True
            raise Refused(409, "replayed")
        wire.check_position(p, now_ms // 1000, proximity.FUTURE_S)
        last = tx.execute("SELECT MAX(t) FROM victim_positions WHERE victim = ?", (victim,)).one()
        if last is not None and last[0] is not None and p.t <= int(last[0]):
            raise Refused(409, "out_of_order")  # her positions are taken in time order
        # Nothing is written above this line: a refusal leaves the transaction as it was.
        tx.execute(
            "INSERT INTO victim_positions (victim, ctr, t, lat, lon, acc_dm, rx_ms, raw) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (victim, p.ctr, p.t, p.lat, p.lon, p.acc_dm, now_ms, body),
        )
        tx.execute(
            "UPDATE victims SET max_ctr = ?, last_rx_ms = ? WHERE id = ?",
            (p.ctr, now_ms, victim),
        )
        return key, p.ctr, proximity.guarded(tx, proximity.evaluate, victim, now_ms), False
