"""Ingest on both backends (SQLite, PostgreSQL): verify, store once, acknowledge contiguously.

Batches come from tests/uplinkkit.py (cbor2 + pycose from docs/uplink.md); the oracles are the
records and ranges the test built, never the server's own computation.
"""

from __future__ import annotations

import random

import cbor2
import pytest
import uplinkkit as K
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tagcore.store import record as R
from taghost.server import admin, api, rules
from taghost.server.db import Database
from taghost.server.ingest import Ingest

NOW_MS = 850_000_000_000
TABLES = ("batches", "fixes", "events", "alerts", "coverage", "held")


@pytest.fixture
def db(server_db_url):
    d = Database(server_db_url)
    yield d
    d.close()


def provision(db: Database, seed: int | None = None) -> tuple[bytes, bytes]:
    tag, key = K.new_tag(seed)
    admin.provision(db, tag.hex(), NOW_MS, key)
    return tag, key


def stored(db: Database, tag: bytes) -> dict[int, tuple]:
    """seq -> the stored record, in the kit's form (("fix", Fix-tuple) | ("ev", kind, t, data))."""
    out: dict[int, tuple] = {}
    with db.tx() as tx:
        cols = ", ".join(api.FIX_FIELDS)
        for r in tx.execute(f"SELECT seq, {cols} FROM fixes WHERE tag = ?", (tag.hex(),)).all():
            out[int(r[0])] = ("fix", tuple(r[1:]))
        q = "SELECT seq, kind, t, data FROM events WHERE tag = ?"
        for s, kind, t, data in tx.execute(q, (tag.hex(),)).all():
            assert s not in out
            out[int(s)] = ("ev", int(kind), int(t), bytes(data))
    return out


def kit_form(log: dict[int, tuple]) -> dict[int, tuple]:
    return {s: ("fix", tuple(r[1])) if r[0] == "fix" else r for s, r in log.items()}


def row_counts(db: Database) -> dict[str, int]:
    with db.tx() as tx:
        return {t: tx.execute(f"SELECT COUNT(*) FROM {t}").one()[0] for t in TABLES}


def test_batch_stored_once_and_acknowledged(db):
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=1)
    ht.add_fixes(10)
    ht.add_event(R.EV_TAMPER, b"\x01")
    ht.add_fixes(5)
    written = kit_form(ht.all_records())
    ing = Ingest(db)
    body = ht.build()
    status, out, ctype = ing.handle(body, NOW_MS)
    assert (status, ctype) == (200, "application/cose")
    ack = K.open_ack(key, out)
    assert ack is not None and ack[1] == tag and ack[2] == 1 and ack[3] == 16 and ack[5] == []
    assert stored(db, tag) == written
    # The same request again (a retry after a lost reply): answered alike, nothing stored twice.
    before = row_counts(db)
    status, out2, _ = ing.handle(body, NOW_MS + 1000)
    assert status == 200 and K.open_ack(key, out2)[3] == 16
    assert row_counts(db) == before and ing.counts["duplicate_batches"] == 1
    assert (ing.counts["records_new"], ing.counts["records_duplicate"]) == (16, 0)
    # An overlapping batch (a new counter, the same records and two more): only those two new.
    ht.add_fixes(2)
    status, out3, _ = ing.handle(ht.build(), NOW_MS + 2000)
    assert status == 200 and K.open_ack(key, out3)[3] == 18
    assert (ing.counts["records_new"], ing.counts["records_duplicate"]) == (18, 16)
    assert not ht.on_reply(status, out2)  # answers an older counter: stale to the tag
    assert ht.on_reply(200, out3) and ht.pending() == 0


def test_gaps_strides_and_polls(db):
    """Seqs never handed out (a reboot) and thinned runs (stride 2) are covered by the range."""
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=2)
    ht.add_fixes(8)
    ht.skip(32)  # recovery resumes past the buffered fixes
    ht.add_event(R.EV_BOOT)
    ht.add_fixes(20)
    ht.thin()
    written = kit_form(ht.all_records())
    assert any(r[0] == "fix" for r in written.values())
    ing = Ingest(db)
    status, out, _ = ing.handle(ht.build(), NOW_MS)
    assert status == 200 and K.open_ack(key, out)[3] == ht.last_seq
    assert stored(db, tag) == written
    assert ht.on_reply(status, out)
    # A poll with nothing new repeats the acknowledged point.
    status, out, _ = ing.handle(ht.build(), NOW_MS + 1)
    assert status == 200 and K.open_ack(key, out)[3] == ht.last_seq


@st.composite
def deliveries(draw):
    """Seqs 1..n cut into ranges; a delivery order (with repeats) of batches numbered by ctr."""
    n = draw(st.integers(1, 60))
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=8))) if n > 1 else []
    bounds = [0, *cuts, n]
    ranges = [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]
    absent = draw(st.sets(st.integers(1, n), max_size=n // 2))  # seqs that do not exist
    ctrs = draw(st.permutations(range(1, len(ranges) + 1)))  # ctr of each range
    order = draw(st.lists(st.integers(0, len(ranges) - 1), min_size=1, max_size=14))
    return n, ranges, absent, ctrs, order


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(d=deliveries(), seed=st.integers(0, 2**32))
# Ranges arriving newest-seq first (a chain waiting on its first link), then with a replay.
@example(d=(9, [(1, 3), (4, 6), (7, 9)], set(), [3, 2, 1], [2, 1, 0]), seed=0)
@example(d=(9, [(1, 3), (4, 6), (7, 9)], {5}, [1, 3, 2], [1, 2, 0, 1, 2]), seed=1)
def test_acknowledged_point_and_replays(db, d, seed):
    """Batches over arbitrary ranges, in any order, repeated: a batch older than the newest
    accepted one is refused (409) and stores nothing; the acknowledged point is the highest H
    with [1, H] inside the union of accepted ranges; every record is stored exactly once."""
    n, ranges, absent, ctrs, order = d
    rng = random.Random(seed)
    tag, key = provision(db, seed=None)
    recs = {s: K.make_fix(rng, 850_000_000 + s * 60) for s in range(1, n + 1) if s not in absent}
    ing = Ingest(db)
    covered: set[int] = set()
    expect: dict[int, tuple] = {}
    max_ctr = 0
    for i in order:
        first, last = ranges[i]
        ctr = ctrs[i]
        runs = [K.fix_run(s, [recs[s]]) for s in range(first, last + 1) if s in recs]
        status, out, _ = ing.handle(K.batch(key, tag, ctr, first, last, runs), NOW_MS)
        if ctr < max_ctr:
            assert status == 409
            continue
        assert status == 200
        max_ctr = ctr
        covered |= set(range(first, last + 1))
        expect.update({s: ("fix", tuple(recs[s])) for s in range(first, last + 1) if s in recs})
        h = 0
        while h + 1 in covered:
            h += 1
        ack = K.open_ack(key, out)
        assert ack is not None and ack[2] == ctr and ack[3] == h
    assert stored(db, tag) == expect


def test_alert_rows_and_evidence(db):
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=3)
    kinds = [R.EV_ZONE, R.EV_PROXIMITY, R.EV_TAMPER, R.EV_LOW_BATTERY, R.EV_LOC_LOST]
    ev_seqs = []
    for k in kinds:
        ht.add_fixes(4)
        ev_seqs.append(ht.add_event(k, bytes([k])))
    ht.add_event(R.EV_STATUS, b"s")  # not an alert
    ht.add_fixes(4)
    written = ht.all_records()
    Ingest(db).handle(ht.build(), NOW_MS)
    al = api.alerts(db, tag.hex(), None, None)
    assert [a["kind"] for a in al] == [
        "zone",
        "proximity",
        "tamper",
        "low_battery",
        "loss_of_location",
    ]
    for a, s, k in zip(al, ev_seqs, kinds, strict=True):
        assert a["seq"] == s and a["source"] == "tag" and a["data"] == bytes([k]).hex()
        fix_seqs = sorted(q for q, r in written.items() if r[0] == "fix")
        want = [q for q in fix_seqs if q < s][-3:] + [q for q in fix_seqs if q > s][:3]
        assert [e["seq"] for e in a["evidence"]] == want
        assert all(e["lat"] == written[e["seq"]][1].lat for e in a["evidence"])


def test_refusals_store_nothing(db):
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=4)
    ht.add_fixes(5)
    good = ht.build()
    ing = Ingest(db)
    before = row_counts(db)
    other_tag, other_key = K.new_tag()
    payload = K.batch_payload(tag, 1, 0, 1, 5, [])
    cases = {
        # a tag that is not provisioned
        403: [K.batch(other_key, other_tag, 1, 1, 1, [])],
        # forged: wrong key, flipped payload bit, the down direction's aad (a reflected message)
        401: [
            K.batch(other_key, tag, 1, 1, 5, []),
            good[:-20] + bytes([good[-20] ^ 1]) + good[-19:],
            K.mac0(key, tag, payload, K.DOWN_AAD),
        ],
        # a verified payload of the wrong shape, and bytes that are not COSE_Mac0
        400: [
            K.mac0(key, tag, cbor2.dumps({1: tag}), K.UP_AAD),
            K.mac0(key, tag, K.batch_payload(other_tag, 1, 0, 1, 5, []), K.UP_AAD),
            K.mac0(key, tag, K.batch_payload(tag, 1, 0, 5, 1, []), K.UP_AAD),
            K.mac0(key, tag, K.batch_payload(tag, 1, 0, 1, 5, [[0, 9, 1, 1, b"\x00"]]), K.UP_AAD),
            b"",
            b"\xff\x00",
            cbor2.dumps([1, 2, 3]),
        ],
        413: [good + bytes(70_000)],
    }
    for status, bodies in cases.items():
        for body in bodies:
            assert ing.handle(body, NOW_MS)[0] == status, (status, body[:40])
    assert row_counts(db) == before
    assert ing.counts["refused_not_provisioned"] == 1
    assert ing.counts["refused_bad_mac"] == 3
    assert ing.counts["refused_malformed"] == 7
    assert ing.counts["refused_too_large"] == 1
    assert ing.handle(good, NOW_MS)[0] == 200  # the tag itself is unaffected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300) | st.builds(cbor2.dumps, st.recursive(
    st.none() | st.booleans() | st.integers() | st.binary(max_size=20) | st.text(max_size=5),
    lambda c: st.lists(c, max_size=5) | st.dictionaries(st.integers(-2, 8), c, max_size=5),
    max_leaves=20,
)))  # fmt: skip
def test_malformed_bytes_refused(db, data):
    """Any bytes that are not a verified batch: refused 400/401/403, nothing stored."""
    ing = Ingest(db)
    before = row_counts(db)
    status = ing.handle(data, NOW_MS)[0]
    assert status in (400, 401, 403)
    assert row_counts(db) == before


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    recs=st.lists(
        st.lists(st.integers(-(2**70), 2**70) | st.binary(max_size=30), min_size=0, max_size=6),
        max_size=4,
    ),
    first=st.integers(-3, 2**64),
    last=st.integers(-3, 2**64),
    ctr=st.integers(-3, 2**64),
)
def test_verified_malformed_payload_refused(db, recs, first, last, ctr):
    """A correctly MACed payload whose fields are out of range or mis-shaped: 400, or (when it
    happens to be well formed) stored; never a server fault."""
    tag, key = K.new_tag(7)
    try:
        admin.provision(db, tag.hex(), NOW_MS, key)
    except admin.AdminError:
        pass
    body = K.mac0(key, tag, K.batch_payload(tag, ctr, 0, first, last, recs), K.UP_AAD)
    status = Ingest(db).handle(body, NOW_MS)[0]
    assert status in (200, 400, 409, 413)


def test_downlink_items_until_held(db):
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=5)
    ing = Ingest(db)
    v = admin.queue_downlink(db, tag.hex(), 2, b"zones-blob", NOW_MS)
    loc = admin.queue_downlink(db, tag.hex(), 4, b"", NOW_MS)
    assert (v, loc) == (1, 1)
    ht.add_fixes(2)
    status, out, _ = ing.handle(ht.build(), NOW_MS)
    assert K.open_ack(key, out)[5] == [[2, 1, b"zones-blob"], [4, 1, b""]]
    assert ht.on_reply(status, out) and ht.held == {2: 1, 4: 1}
    state = api.tag_state(db, tag.hex())[0]
    assert state["held"] == [] and len(state["pending_downlink"]) == 2
    status, out, _ = ing.handle(ht.build(), NOW_MS + 5000)  # reports what it holds
    assert K.open_ack(key, out)[5] == []
    state = api.tag_state(db, tag.hex())[0]
    assert [(h["kind"], h["version"]) for h in state["held"]] == [("zones", 1), ("locate", 1)]
    assert state["held"][0]["since"] == api.iso((NOW_MS + 5000) / 1000)
    assert state["pending_downlink"] == []
    with pytest.raises(admin.AdminError):
        admin.queue_downlink(db, tag.hex(), 2, b"old", NOW_MS, version=1)
    assert admin.queue_downlink(db, tag.hex(), 2, b"new", NOW_MS) == 2


def test_loss_of_communication(db):
    tag, key = admin.provision(db, "00000000000000aa", NOW_MS, upload_every_s=900), None
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=6)
    ht.add_fixes(1)
    Ingest(db).handle(ht.build(), NOW_MS)
    due = NOW_MS + 900_000
    assert rules.comm_loss(db, due + 600_000) == []  # not yet past the grace
    assert rules.comm_loss(db, due + 600_001) == [tag.hex()]
    assert rules.comm_loss(db, due + 900_000) == []  # one open alert per tag
    al = [a for a in api.alerts(db, tag.hex(), None, None) if a["kind"] == "comm_lost"]
    assert len(al) == 1 and al[0]["cleared"] is None and al[0]["t"] == due // 1000
    Ingest(db).handle(ht.build(), due + 1_000_000)
    al = [a for a in api.alerts(db, tag.hex(), None, None) if a["kind"] == "comm_lost"]
    assert al[0]["cleared"] == api.iso((due + 1_000_000) / 1000)


def test_group_commit_mixed_group(db):
    """One group (one transaction): refused requests leave no trace and do not undo the others;
    two batches of one tag in the same group are taken in order; results stay in request order."""
    a_tag, a_key = provision(db)
    b_tag, b_key = provision(db)
    a, b = K.HostTag(a_tag, a_key, seed=8), K.HostTag(b_tag, b_key, seed=9)
    a.add_fixes(3)
    a1 = a.build()
    a.add_fixes(2)
    a2 = a.build()
    b.add_fixes(4)
    b1 = b.build()
    ghost_tag, ghost_key = K.new_tag()
    bodies = [
        a2,
        K.batch(ghost_key, ghost_tag, 1, 1, 1, []),  # not provisioned
        b1,
        a1,  # older than a2 in the same group: replayed
        K.batch(a_key, b_tag, 5, 1, 1, []),  # forged for b
        b"\x00",
    ]
    ing = Ingest(db)
    res = ing.handle_many(bodies, NOW_MS)
    assert [r[0] for r in res] == [200, 403, 200, 409, 401, 400]
    assert K.open_ack(a_key, res[0][1])[3] == 5 and K.open_ack(b_key, res[2][1])[3] == 4
    assert stored(db, a_tag) == kit_form(a.all_records())
    assert stored(db, b_tag) == kit_form(b.all_records())
    with db.tx() as tx:
        assert tx.execute("SELECT COUNT(*) FROM batches").one()[0] == 2


def test_database_fault_is_500_and_acknowledges_nothing(db, monkeypatch):
    """The database fails at commit: every request of the group gets 500, none an ack."""
    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=10)
    ht.add_fixes(3)
    body = ht.build()
    real_tx = db.tx

    def failing_tx():
        cm = real_tx()

        class Failing:
            def __enter__(self):
                return cm.__enter__()

            def __exit__(self, *exc):
                cm.__exit__(RuntimeError, RuntimeError("disk gone"), None)
                raise RuntimeError("disk gone")

        return Failing()

    monkeypatch.setattr(db, "tx", failing_tx)
    ing = Ingest(db)
    res = ing.handle_many([body, body], NOW_MS)
    assert [r[0] for r in res] == [500, 500] and ing.counts["refused_server_error"] == 2
    assert not ht.on_reply(res[0][0], res[0][1]) and ht.pending() == 3
    monkeypatch.setattr(db, "tx", real_tx)
    assert row_counts(db)["fixes"] == 0


def test_one_failing_request_does_not_sink_its_group(db, monkeypatch):
    """A request that fails in the database (here: forced) gets 500; the rest of its group is
    retried alone and stored."""
    tags = [provision(db) for _ in range(3)]
    hts = [K.HostTag(t, k, seed=20 + n) for n, (t, k) in enumerate(tags)]
    for ht in hts:
        ht.add_fixes(2)
    bad = tags[1][0].hex()
    real = Ingest._store

    def store(self, tx, tag, *a):
        if tag == bad:
            raise RuntimeError("constraint")
        return real(self, tx, tag, *a)

    monkeypatch.setattr(Ingest, "_store", store)
    res = Ingest(db).handle_many([ht.build() for ht in hts], NOW_MS)
    assert [r[0] for r in res] == [200, 500, 200]
    assert [len(stored(db, t)) for t, _ in tags] == [2, 0, 2]


def test_beacon_windows_kept_fresh(db):
    """A fresh window is queued before the last one has less than a day left; it holds the
    beacon's identifiers for the coming intervals, and reaches the tag in its next ack."""
    from tagcore.proximity.beaconid import rolling_id
    from tagcore.proximity.idtable import IdTable

    tag, key = provision(db)
    secret = bytes(range(16))
    admin.add_beacon(db, tag.hex(), secret, beacon=3, hours=48, interval_s=900)
    now_s = NOW_MS // 1000
    assert rules.beacon_windows(db, NOW_MS) == [tag.hex()]
    assert rules.beacon_windows(db, NOW_MS + 23 * 3600_000) == []  # 25 h and more left
    ht = K.HostTag(tag, key, seed=30)
    ht.add_fixes(1)
    st, out, _ = Ingest(db).handle(ht.build(), NOW_MS)
    assert ht.on_reply(st, out)
    [(kind, version, blob)] = ht.downlink
    assert (kind, version) == (1, 1)
    tab = IdTable()
    assert tab.load(blob) > 0
    for h in (0, 24, 47):  # the beacon's identifier at each hour of the window is in the table
        k = (now_s + h * 3600) // 900
        assert tab.lookup(rolling_id(secret, k)) == (3, k)
    assert rules.window_end(blob) >= now_s + 48 * 3600
    later = NOW_MS + 27 * 3600_000  # 48 h + 2 h margin: under a day left now
    assert rules.beacon_windows(db, later) == [tag.hex()]
    st, out, _ = Ingest(db).handle(ht.build(), later)
    assert ht.on_reply(st, out) and [d[:2] for d in ht.downlink] == [(1, 1), (1, 2)]
    assert rules.window_end(ht.downlink[1][2]) >= later // 1000 + 48 * 3600


def test_alerts_from_core_events_open_and_end(db):
    """Events written by the core's own encoders: a zone breach opens an alert carrying the
    tag's evidence fixes, its end clears it; proximity near/gone and loss/return of location
    likewise; a later breach of the same zone is a new open alert."""
    from tagcore import events as E
    from tagcore.proximity import monitor as P
    from tagcore.zones import monitor as Z

    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=40)
    ht.add_fixes(3)
    evid = tuple(r[1] for r in ht.log.values())
    t = ht.t

    def zone(kind: int) -> tuple[int, bytes]:
        ev = E.encode(Z.zone_alert(kind, t, 5, 1, 0, evid))
        return ev[0], bytes(ev[1])

    def prox(kind: int) -> tuple[int, bytes]:
        return R.EV_PROXIMITY, P.encode_event(P.Event(t, kind, 2, 0, -60, 30, [t - 5], [-61]))

    def loc(kind: int) -> tuple[int, bytes]:
        ev = E.encode(Z.loc_alert(kind, t, 120, evid))
        return ev[0], bytes(ev[1])

    for ev in (zone(Z.A_BREACH), prox(P.K_NEAR), loc(Z.A_LOC_LOST)):
        ht.add_event(*ev)
    ing = Ingest(db)
    st, out, _ = ing.handle(ht.build(), NOW_MS)
    assert ht.on_reply(st, out)
    al = api.alerts(db, tag.hex(), None, None)
    assert [(a["kind"], a["subject"], a["cleared"]) for a in al] == [
        ("zone_breach", "zone 5", None),
        ("proximity", "beacon 2", None),
        ("loss_of_location", "location", None),
    ]
    assert [e["lat"] for e in al[0]["tag_evidence"]] == [f.lat for f in evid]
    for ev in (zone(Z.A_BREACH_END), prox(P.K_GONE), loc(Z.A_LOC_BACK), zone(Z.A_BREACH)):
        ht.add_event(*ev)
    second = ht.build()
    st, out, _ = ing.handle(second, NOW_MS + 60_000)
    assert ht.on_reply(st, out)
    assert ing.handle(second, NOW_MS + 120_000)[0] == 200  # the same bytes again: no change
    al = api.alerts(db, tag.hex(), None, None)
    cleared = api.iso((NOW_MS + 60_000) / 1000)
    assert [(a["kind"], a["cleared"]) for a in al] == [
        ("zone_breach", cleared),
        ("proximity", cleared),
        ("loss_of_location", cleared),
        ("zone_breach", None),
    ]


@pytest.mark.parametrize("order", list(__import__("itertools").permutations(range(3))))
def test_alert_state_does_not_depend_on_delivery_order(db, order):
    """Batches reach the server out of order (an alert goes ahead of the backlog; a retried
    batch lands after a newer one), and an alert's end can share a batch with its opening. The
    alerts the server holds after all of them must be those of the tag's own order: a breach
    opened at seq 2 and ended at seq 4 is cleared whichever arrives first; the new breach at
    seq 6 stays open."""
    from tagcore import events as E
    from tagcore.zones import monitor as Z

    tag, key = provision(db)
    t = 850_000_000

    def zone(kind: int, seq: int) -> list:
        k, data = E.encode(Z.zone_alert(kind, t + seq, 5, 1, 0, ()))
        return K.event(k, seq, t + seq, bytes(data))

    status = K.event(R.EV_STATUS, 1, t, b"s")
    parts = [  # (first, last, records): the open and its end together, the end alone, ...
        (1, 3, [status, zone(Z.A_BREACH, 2), K.event(R.EV_STATUS, 3, t, b"s")]),
        (4, 5, [zone(Z.A_BREACH_END, 4), K.event(R.EV_STATUS, 5, t, b"s")]),
        (6, 6, [zone(Z.A_BREACH, 6)]),
    ]
    ing = Ingest(db)
    for ctr, i in enumerate(order, 1):
        first, last, recs = parts[i]
        st, _, _ = ing.handle(K.batch(key, tag, ctr, first, last, recs), NOW_MS + ctr * 1000)
        assert st == 200
    al = sorted(api.alerts(db, tag.hex(), None, None), key=lambda a: a["seq"])
    assert [(a["seq"], a["kind"], a["cleared"] is not None) for a in al] == [
        (2, "zone_breach", True),
        (6, "zone_breach", False),
    ]


def test_an_end_in_the_same_batch_as_its_opening_clears_it(db):
    from tagcore import events as E
    from tagcore.zones import monitor as Z

    tag, key = provision(db)
    recs = []
    for seq, kind in ((1, Z.A_BREACH), (2, Z.A_BREACH_END)):
        k, data = E.encode(Z.zone_alert(kind, 850_000_000 + seq, 5, 1, 0, ()))
        recs.append(K.event(k, seq, 850_000_000 + seq, bytes(data)))
    assert Ingest(db).handle(K.batch(key, tag, 1, 1, 2, recs), NOW_MS)[0] == 200
    al = api.alerts(db, tag.hex(), None, None)
    assert [(a["kind"], a["cleared"] is not None) for a in al] == [("zone_breach", True)]


def test_power_warnings_open_alerts_and_a_degradation_step_does_not(db):
    """The budget's EV_POWER records as the core's own codec writes them: the low and critical
    warnings of the projected life open `power_low` and `power_critical` (the tag sent them at
    once, as alerts); a change of the plan's level is stored but opens nothing (the tag
    meets its target by it; nobody has to act); damaged data still opens an alert by kind."""
    from tagcore import events as E

    tag, key = provision(db)
    ht = K.HostTag(tag, key, seed=41)

    def power(what: int, level: int, left: int) -> int:
        k, data = E.encode(E.Power(ht.t, what, level, left))
        return ht.add_event(k, bytes(data))

    ht.add_fixes(3)
    power(E.POWER_LEVEL, 3, 900)
    ht.add_fixes(3)
    low = power(E.POWER_LOW, 3, 240)
    ht.add_fixes(3)
    crit = power(E.POWER_CRITICAL, 4, 60)
    ht.add_fixes(3)
    power(E.POWER_LEVEL, 4, 55)
    bad = ht.add_event(R.EV_POWER, b"\x02")  # not a Power: an alert all the same
    ing = Ingest(db)
    st, out, _ = ing.handle(ht.build(), NOW_MS)
    assert st == 200 and ht.on_reply(st, out)
    al = api.alerts(db, tag.hex(), None, None)
    assert [(a["seq"], a["kind"], a["source"], a["subject"], a["cleared"]) for a in al] == [
        (low, "power_low", "tag", "", None),
        (crit, "power_critical", "tag", "", None),
        (bad, "power", "tag", "", None),
    ]
    assert [e["seq"] for e in al[0]["evidence"]][:3] == [s for s in range(low - 3, low)]
    assert len(stored(db, tag)) == ht.last_seq  # the level steps are there, as events
