"""What the server holds of a sealing tag is verified (docs/evidence.md):

- records the tag uploads come off its flash, never only its RAM buffer: a fix sent from RAM and
  then lost in a reset would sit in the server's export inside a sealed stretch that no seal
  lists (INSERTED), indistinguishable from a forged record;
- a tag provisioned with a seal key whose batches stop bringing seals (its key slot lost, its
  seals given up for space, an unsealing firmware) is flagged, not refused: its batches are
  stored (its alerts must still get through) and a server alert `unsealed` opens, and it clears
  once its seals verify again."""

from __future__ import annotations

import os
from pathlib import Path

from evidencekit import KEY, T0, Tag
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from seal_run import K0, KID
from tagcore.store import seal as S
from tagcore.store.log import Store
from tagcore.uplink.client import UplinkClient
from taghost import verify as V
from taghost.server import admin, seals
from taghost.server.db import Database
from taghost.server.ingest import Ingest
from test_store import MemFs, mkfix


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'server.db'}")
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    return db


def _send(up: UplinkClient, ing: Ingest, t: int) -> list[int]:
    out = []
    for _ in range(100):
        body = up.request(t)
        if body is None:
            break
        status, reply, _ = ing.handle(bytes(body), t * 1000)
        out.append(status)
        if status != 200:
            break
        up.on_reply(t, reply)
    return out


def _unsealed_alerts(db: Database) -> list[tuple]:
    with db.tx() as tx:
        return [
            tuple(r)
            for r in tx.execute(
                "SELECT source, cleared_ms FROM alerts WHERE tag = ? AND kind = 'unsealed'",
                (KID.hex(),),
            ).all()
        ]


def test_uploads_from_the_ram_buffer_lost_in_a_reset_leave_nothing_unverified(
    tmp_path: Path,
) -> None:
    db = _db(tmp_path)
    ing = Ingest(db)
    tag = Tag()
    for reset in range(6):
        tag.walk(50 + 7 * reset)  # the last fixes still in the RAM buffer
        assert set(_send(tag.up, ing, tag.t)) == {200}
        tag.t += 20
        # a reset: RAM gone; the store recovers from flash and seals the previous run's tail
        tag.store = Store(tag.fs, tag.t, sealer=S.Sealer(S.FileSlot(tag.fs), KID))
        acked = tag.up.acked
        tag.up = UplinkClient(tag.store, KID, KEY, max_bytes=600)
        tag.up.acked = acked
    tag.walk(40)
    tag.t += 1000
    tag.walk(1)
    tag.store.flush()
    assert set(_send(tag.up, ing, tag.t)) == {200}
    with db.tx() as tx:
        exp = seals.export_all(tx, KID.hex())
    rep = V.verify(V.import_records(exp["records"]), K0, KID, V.anchors_from_json(exp["anchors"]))
    assert rep.ok, rep.text()
    assert rep.verified >= 6 * 50 and len(rep.seqs("UNSEALED_TAIL")) <= 2


def test_a_sealing_tag_that_stops_sealing_is_flagged_not_refused(tmp_path: Path) -> None:
    db = _db(tmp_path)
    ing = Ingest(db)
    tag = Tag()
    tag.walk(300)
    assert set(tag.upload(ing)) == {200}
    assert _unsealed_alerts(db) == []  # sealing: nothing flagged
    # the key slot is lost: the tag runs unsealed (the shell reports it; the server need not
    # believe it)
    fs2 = MemFs()
    fs2.files = {n: v for n, v in tag.fs.files.items() if n != "k"}
    st = Store(fs2, tag.t, sealer=S.Sealer(S.FileSlot(fs2), KID))
    assert st.counts.get("seal_nokey") == 1
    acked = tag.up.acked
    up = UplinkClient(st, KID, KEY, max_bytes=600)
    up.acked = acked
    t = tag.t
    statuses = []
    for k in range(600):
        t += 30
        st.append_fix(t, mkfix(k, t))
        if k % 100 == 99:
            st.flush()
            statuses += _send(up, ing, t)
    assert set(statuses) == {200}  # every batch taken ...
    with db.tx() as tx:
        n = tx.execute("SELECT COUNT(*) FROM fixes WHERE tag = ?", (KID.hex(),)).one()[0]
    assert n >= 300 + 590  # ... and stored
    flagged = _unsealed_alerts(db)
    assert flagged == [("server", None)]  # ... but one open alert says they are not sealed
    assert ing.counts["batches_unsealed"] >= 1
    # the flag came within UNSEALED_SEQS of the last seal, not at the end
    with db.tx() as tx:
        raised = tx.execute("SELECT raised_ms FROM alerts WHERE kind = 'unsealed'").one()[0]
    assert raised // 1000 - tag.t <= 30 * (seals.UNSEALED_SEQS + 100)
    # the slot comes back (restored): the tag seals on from it, its seals verify, the flag clears
    fs2.files["k"] = tag.fs.files["k"]
    st = Store(fs2, t, sealer=S.Sealer(S.FileSlot(fs2), KID))
    assert st.sealer.key is not None
    up = UplinkClient(st, KID, KEY, max_bytes=600)
    up.acked = acked
    for k in range(200):
        t += 30
        st.append_fix(t, mkfix(k, t))
    st.flush()
    assert set(_send(up, ing, t)) == {200}
    assert [a[1] is not None for a in _unsealed_alerts(db)] == [True]


def test_an_alert_sent_ahead_of_the_backlog_leaves_its_earlier_seals_acceptable(
    tmp_path: Path,
) -> None:
    # Out of coverage for hours, then an alert: the client sends the alert's batch first (its
    # seal is epochs ahead of what the server verified), then the backlog with the earlier
    # seals. Those fill the skipped epochs; none is taken for a fork and refused.
    from tagcore.store import record as R

    db = _db(tmp_path)
    ing = Ingest(db)
    tag = Tag()
    tag.walk(50)
    assert set(tag.upload(ing)) == {200}
    for _ in range(6):  # six epochs of backlog
        tag.walk(40)
        tag.t += 1000
    seq, _ = tag.store.append_event(R.EV_TAMPER, tag.t, b"\x01")  # sealed at once
    tag.up.alert(seq)
    statuses = tag.upload(ing)
    assert set(statuses) == {200} and len(statuses) > 3, statuses
    assert ing.counts["seal_epochs_skipped"] >= 5  # the alert's batch went first
    assert not [k for k in ing.counts if k.startswith("refused")], ing.counts
    with db.tx() as tx:
        exp = seals.export_all(tx, KID.hex())
        epochs = [int(r[0]) for r in tx.execute("SELECT epoch FROM anchors ORDER BY epoch").all()]
    assert epochs == list(range(len(epochs))) and len(epochs) >= 8
    rep = V.verify(V.import_records(exp["records"]), K0, KID, V.anchors_from_json(exp["anchors"]))
    assert rep.ok, rep.text()
    assert rep.verified >= 50 + 6 * 40


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    backlog=st.integers(seals.UNSEALED_SEQS, 2 * seals.UNSEALED_SEQS), tail=st.integers(100, 125)
)
def test_an_alert_far_ahead_of_the_verified_seals_is_not_flagged_unsealed(
    tmp_path: Path, backlog: int, tail: int
) -> None:
    # A backlog out of coverage, then an alert: its batch goes first. The seal after it lists
    # every record since the last seal (`tail` fixes, up to SEAL_MAX) and does not fit the
    # client's buffer beside the alert, so the batch carries no seal, UNSEALED_SEQS or more
    # past the newest seal the server verified. The backlog brings those seals next: an
    # honest sealing tag is never flagged `unsealed`.
    from tagcore.store import record as R

    db = Database(f"sqlite:///{tmp_path / f'{os.urandom(6).hex()}.db'}")  # one per example
    admin.provision(db, KID.hex(), T0 * 1000, KEY, seal_key=K0)
    ing = Ingest(db)
    tag = Tag()
    tag.walk(50)
    assert set(tag.upload(ing)) == {200}
    tag.walk(backlog)
    for k in range(tail):  # 1 Hz fixes only: neither an alert nor SEAL_EVERY seals them
        tag.t += 1
        tag.store.append_fix(tag.t, mkfix(k, tag.t))
    seq, _ = tag.store.append_event(R.EV_TAMPER, tag.t, b"\x01")
    tag.up.alert(seq)
    assert set(tag.upload(ing, tries=2000)) == {200}
    assert tag.up.acked >= seq  # the backlog followed
    assert ing.counts["batches_unsealed"] == 0 and _unsealed_alerts(db) == [], ing.counts


def test_a_backlog_record_rewritten_after_its_seal_went_ahead_is_refused(tmp_path: Path) -> None:
    # The alert's batch brings the seal that lists the backlog before the backlog itself: a
    # backlog fix rewritten on the tag in between (CRC recomputed) is checked against that
    # anchored seal when it arrives, and refused; the honest case above stores it.
    from tagcore.store import record as R

    db = _db(tmp_path)
    ing = Ingest(db)
    tag = Tag()
    tag.walk(50)
    assert set(tag.upload(ing)) == {200}
    tag.walk(8)  # a backlog with no seal of its own: only the alert's seal below lists it
    seq, _ = tag.store.append_event(R.EV_TAMPER, tag.t, b"\x01")
    tag.up.alert(seq)
    tag.store.flush()
    body = tag.up.request(tag.t)  # the alert's batch: the alert and its seal
    status, reply, _ = ing.handle(bytes(body), tag.t * 1000)
    assert status == 200
    tag.up.on_reply(tag.t, reply)
    # a backlog fix on flash rewritten (its latitude), the frame's CRC made good again
    name = sorted(n for n in tag.fs.files if n.startswith("s"))[-1]
    data = tag.fs.files[name]
    i, hit = 0, None
    while i < len(data):
        ln = R.check_frame(data, i, len(data))
        if data[i + 1] == R.KIND_FIXES and R.frame_seq(data, i) > tag.up.acked:
            hit = (i, ln)
        i += ln
    assert hit is not None
    i, ln = hit
    recs = R.frame_records(data, i, ln)
    fixes = [v._replace(lat=v.lat + 100) if k == 0 else v for k, (_, _, v) in enumerate(recs)]
    data[i : i + ln] = R.fixes_frame(recs[0][0], fixes)
    statuses = tag.upload(ing)
    assert "seal_epochs_skipped" not in ing.counts and "seals_filled" not in ing.counts
    assert statuses[-1] == 422 and ing.counts["refused_seal_mismatch"] == 1, statuses


def _reseal(fs: MemFs, epoch: int, how: str) -> None:
    """Rewrite epoch `epoch`'s seal on the tag's flash as someone holding its key k_e could (an
    image of the flash taken during that epoch, rolled back onto the tag): "event" alters an
    event it lists and re-tags it, "count" changes its signed fix count, "link" points it at
    another previous seal. The seal's
    mac is made good under k_e, every frame's CRC too."""
    from tagcore.store import record as R

    k = S.key_at(K0, epoch)
    frames = []  # (segment name, offset, length, records)
    for name in sorted(n for n in fs.files if n.startswith("s")):
        data = fs.files[name]
        i = 0
        while i < len(data):
            ln = R.check_frame(data, i, len(data))
            if not ln:
                i += 1
                continue
            frames.append((name, i, ln, R.frame_records(data, i, ln)))
            i += ln
    at = None
    for name, i, ln, recs in frames:
        if recs[0][1] == R.EV_SEAL:
            p = S.parse(recs[0][2][1])
            if p is not None and p[1] == epoch:
                at = (name, i, ln, recs[0][0], recs[0][2])
    assert at is not None, epoch
    name, i, ln, sseq, (ts, d) = at
    p = S.parse(d)
    assert p is not None
    signed, lst = p[9], list(p[10])
    evd, prev = bytes(d[signed - 32 : signed - 16]), bytes(d[signed - 16 : signed])
    nfix = p[4]
    events = [n for n, (_, is_fix, _) in enumerate(lst) if not is_fix]
    if how == "event" and not events:
        how = "count"  # an epoch of fixes only: its signed head is what can be altered
    if how == "count":
        nfix += 1  # claims one more fix than it lists: as if thinning had taken one
    elif how == "event":
        n = events[0]
        s = lst[n][0]
        for fname, fi, fln, recs in frames:
            if recs[0][0] == s and recs[0][1] >= R.EV_FIRST:
                kind, (t, ed) = recs[0][1], recs[0][2]
                ed = bytes([ed[0] ^ 1]) + bytes(ed[1:])
                fs.files[fname][fi : fi + fln] = R.frame(kind, s, R.event_payload(t, ed))
                lst[n] = (s, 0, V.tag_of(k, s, kind, (t, ed)))
                break
        else:
            raise AssertionError(f"event {s} not on flash")
        evd = V.event_digest(lst)
    else:
        prev = bytes(b ^ 0x5A for b in prev)
    head = bytes(d[: 1 + S.KID_LEN]) + bytes(R.varints((epoch, p[2], p[3], nfix, p[5])))
    head += evd + prev
    body = bytearray(head + V.mac_of(k, head))
    last = lst[0][0] if lst else 0
    for s, is_fix, tg in lst:
        R.put_varint(body, ((s - last) << 1) | is_fix)
        body += tg
        last = s
    assert len(body) == len(d)
    fs.files[name][i : i + ln] = R.frame(R.EV_SEAL, sseq, R.event_payload(ts, bytes(body)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    epochs=st.integers(3, 6),
    pick=st.integers(0, 10),
    how=st.sampled_from(["event", "count", "link"]),
)
@example(epochs=4, pick=10, how="event")  # the epoch just before the alert's seal
def test_a_skipped_epoch_filled_in_with_other_contents_is_refused(
    epochs: int, pick: int, how: str
) -> None:
    # The alert's batch goes ahead of the backlog and its seal skips the backlog's epochs.
    # Before the backlog is sent, one of its seals is rewritten with the key of its epoch
    # (altered contents, or another chain link). The seals it sits between bind it: whichever
    # of them the server holds when it arrives, the batch that closes the chain is refused.
    import tempfile

    from tagcore.store import record as R

    with tempfile.TemporaryDirectory() as d:
        db = _db(Path(d))
        ing = Ingest(db)
        tag = Tag()
        tag.walk(50)
        assert set(tag.upload(ing)) == {200}
        with db.tx() as tx:
            e_next = int(tx.execute("SELECT seal_next_epoch FROM tags").one()[0])
        for _ in range(epochs):
            tag.walk(40)
            tag.t += 1000
        seq, _ = tag.store.append_event(R.EV_TAMPER, tag.t, b"\x01")
        tag.up.alert(seq)
        tag.store.flush()
        status, reply, _ = ing.handle(bytes(tag.up.request(tag.t)), tag.t * 1000)
        assert status == 200
        tag.up.on_reply(tag.t, reply)
        with db.tx() as tx:
            held = [int(r[0]) for r in tx.execute("SELECT epoch FROM anchors").all()]
        skipped = [e for e in range(e_next, max(held)) if e not in held]
        assert len(skipped) >= epochs - 1, (held, e_next)
        forged = skipped[min(pick, len(skipped) - 1)]
        _reseal(tag.fs, forged, how)
        statuses = tag.upload(ing)
        assert statuses and statuses[-1] == 422, (forged, skipped, statuses, dict(ing.counts))
        assert ing.counts["refused_seal_chain"] == 1, dict(ing.counts)
        with db.tx() as tx:
            exp = seals.export_all(tx, KID.hex())
        rep = V.verify(
            V.import_records(exp["records"]), K0, KID, V.anchors_from_json(exp["anchors"])
        )
        assert not rep.ok
