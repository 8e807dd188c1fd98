"""The server's check of a batch's seals before it stores anything (docs/evidence.md).

Every EV_SEAL record of a batch must be this tag's, verify under the key of its epoch (evolved
forward from the tag's initial key k0), chain to the seal the server verified before it (and a
skipped epoch filled in later to the one after it too), and
agree with every record it lists that the server holds or the batch brings. Otherwise the batch
is refused (422, counted by reason) and nothing of it is stored. Verified seals become the
tag's anchors: what `opentag verify` checks a pulled log against (truncation, roll-back).

A listed fix the server has not got is accepted and counted (`seal_fixes_absent`): the store
may have thinned it before it was uploaded, and the EV_THINNED that says so can come in a later
batch. A listed event that is absent is refused: the store never thins events.
"""

from __future__ import annotations

import hmac
from collections import Counter
from typing import Any, NamedTuple

from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store import seal as S

from taghost import alertkinds as K
from taghost import verify as V
from taghost.server.db import Tx
from taghost.server.wire import Batch, Event, FixRun, Refused

REFUSED = 422


class Checked(NamedTuple):
    anchors: list[tuple[int, int, int, bytes]]  # epoch, seal seq, last listed seq, mac
    next_epoch: int
    next_key: bytes
    listed: set[int]  # the batch's records its own seals listed (and so checked)


def _refuse(reason: str) -> Refused:
    return Refused(REFUSED, reason)


def batch_records(b: Batch) -> dict[int, V.Rec]:
    out: dict[int, V.Rec] = {}
    for rec in b.recs:
        if isinstance(rec, FixRun):
            for k, f in enumerate(rec.fixes):
                out[rec.seq + k * rec.stride] = (R.KIND_FIXES, Fix(*f))
        else:
            assert isinstance(rec, Event)
            out[rec.seq] = (rec.kind, (rec.t, bytes(rec.data)))
    return out


def stored_records(tx: Tx, tag: str, lo: int, hi: int) -> dict[int, V.Rec]:
    out: dict[int, V.Rec] = {}
    for row in tx.execute(
        "SELECT seq, t, ms, lat, lon, alt_dm, speed_cms, course_cd, acc_dm, hdop_c, sats, "
        "quality, mode, flags FROM fixes WHERE tag = ? AND seq BETWEEN ? AND ?",
        (tag, lo, hi),
    ).all():
        vals = [None if v is None else int(v) for v in row[1:]]
        out[int(row[0])] = (R.KIND_FIXES, Fix(*vals))
    for row in tx.execute(
        "SELECT seq, kind, t, data FROM events WHERE tag = ? AND seq BETWEEN ? AND ?",
        (tag, lo, hi),
    ).all():
        out[int(row[0])] = (int(row[1]), (int(row[2]), bytes(row[3])))
    return out


def check(tx: Tx, tag: str, kid: bytes, b: Batch, c: Counter[str]) -> Checked | None:
    """The batch's seals checked (raises Refused), or None if it holds none or the tag has no
    seal key (provisioned before sealing: counted `seals_unverifiable`). Writes nothing."""
    seals = sorted(
        (r for r in b.recs if isinstance(r, Event) and r.kind == R.EV_SEAL), key=lambda r: r.seq
    )
    if not seals:
        return None
    row = tx.execute(
        "SELECT seal_key, seal_next_epoch, seal_next_key FROM tags WHERE tag = ?", (tag,)
    ).one()
    if row is None or row[0] is None:
        c["seals_unverifiable"] += len(seals)
        return None
    k0, e_next, k_next = bytes(row[0]), int(row[1]), bytes(row[2])
    held = {
        int(e): bytes(m)
        for e, m in tx.execute("SELECT epoch, mac FROM anchors WHERE tag = ?", (tag,)).all()
    }
    prev = held.get(e_next - 1, bytes(S.MAC_LEN)) if e_next > 0 else bytes(S.MAC_LEN)
    recs = batch_records(b)
    out: list[tuple[int, int, int, bytes]] = []
    listed: set[int] = set()
    links: dict[int, bytes] = {}  # epoch -> the previous mac its seal names (this batch's)
    for ev in seals:
        p = S.parse(ev.data)
        if p is None:
            raise _refuse("seal_malformed")
        skid, epoch, _first, last, *_, mac, _signed, _lst = p
        if skid != kid:
            raise _refuse("seal_foreign")
        if epoch < e_next:
            if epoch in held:  # a retry: the server verified this epoch already
                if held[epoch] != mac:
                    raise _refuse("seal_fork")
                c["seals_duplicate"] += 1
                continue
            # An epoch skipped when a later one came first (an alert's batch goes ahead of the
            # backlog): checked now, from k0 (rare: the server keeps only the next epoch's key).
            k = S.key_at(k0, epoch)
            _verify(tx, tag, ev, p, k, held.get(epoch - 1), recs, c)
            # Both its neighbours bind it: the next epoch's seal, verified first, named this
            # epoch's mac. Someone holding k_e (a flash image of that epoch rolled back) can
            # make a seal that verifies and chains backwards; only the forward link tells.
            if epoch + 1 in held:
                nxt = links[epoch + 1] if epoch + 1 in links else _link(tx, tag, epoch + 1)
                if nxt is not None and not hmac.compare_digest(nxt, mac):
                    raise _refuse("seal_chain")
            links[epoch] = p[7]
            listed.update(s for s, _, _ in p[10])
            c["seals_filled"] += 1
            out.append((epoch, ev.seq, last, mac))
            held[epoch] = mac
            continue
        k = S.key_at(k_next, epoch - e_next)
        _verify(tx, tag, ev, p, k, prev if epoch == e_next else None, recs, c)
        listed.update(s for s, _, _ in p[10])
        links[epoch] = p[7]
        if epoch > e_next:  # epochs whose seals the tag gave up for space, or sends later
            c["seal_epochs_skipped"] += epoch - e_next
        out.append((epoch, ev.seq, last, mac))
        held[epoch] = mac
        prev = mac
        e_next = epoch + 1
        k_next = S.evolve(k)
    return Checked(out, e_next, k_next, listed)


def _link(tx: Tx, tag: str, epoch: int) -> bytes | None:
    """The previous mac that the seal the server anchored for `epoch` names, or None if it does
    not hold that seal's record."""
    r = tx.execute(
        "SELECT e.data FROM anchors a JOIN events e ON e.tag = a.tag AND e.seq = a.seq "
        "WHERE a.tag = ? AND a.epoch = ?",
        (tag, epoch),
    ).one()
    p = S.parse(bytes(r[0])) if r is not None else None
    return bytes(p[7]) if p is not None else None


class SealState(NamedTuple):
    k0: bytes | None  # the tag's initial seal key (None: a tag provisioned before sealing)
    hi: int  # the last seq the newest verified seal lists (0: none yet)
    flagged: bool  # an `unsealed` alert is open


def state(tx: Tx, tag: str) -> SealState:
    """What check_late and flag need, in one query a batch (they run for every batch)."""
    r = tx.execute(
        "SELECT seal_key, (SELECT hi FROM anchors n WHERE n.tag = tags.tag ORDER BY epoch DESC "
        "LIMIT 1), EXISTS (SELECT 1 FROM alerts a WHERE a.tag = tags.tag AND a.kind = "
        "? AND a.cleared_ms IS NULL) FROM tags WHERE tag = ?",
        (K.UNSEALED, tag),
    ).one()
    if r is None:
        return SealState(None, 0, False)
    k0 = bytes(r[0]) if r[0] is not None else None
    return SealState(k0, int(r[1]) if r[1] is not None else 0, bool(r[2]))


def check_late(
    tx: Tx, tag: str, b: Batch, ch: Checked | None, st: SealState, c: Counter[str]
) -> None:
    """New records of a batch that a seal the server already verified lists: their seal came
    first (an alert's batch goes ahead of the backlog, and its seal lists the backlog). Checked
    against that seal's entries now (raises Refused `seal_mismatch`), so no record is stored
    unchecked where a seal covers it. The usual batch has none: its records are past every
    seal the server holds (the tail, checked when its seal comes), and this costs one query."""
    if st.k0 is None or b.last < b.first or b.first > st.hi:
        return
    listed = ch.listed if ch is not None else set()
    seqs = [s for s in batch_records(b) if s not in listed]
    if not seqs or min(seqs) > st.hi:
        return
    k0, lo, hi = st.k0, min(seqs), st.hi
    have = set(stored_records(tx, tag, lo, hi))  # stored before: checked then (or never new)
    want = {s for s in seqs if s <= hi and s not in have}
    if not want:
        return
    recs = batch_records(b)
    rows = tx.execute(
        "SELECT a.epoch, e.data FROM anchors a JOIN events e ON e.tag = a.tag AND e.seq = a.seq "
        "WHERE a.tag = ? AND a.hi >= ? ORDER BY a.epoch",
        (tag, lo),
    ).all()
    for epoch, data in rows:
        p = S.parse(bytes(data))
        if p is None:
            continue
        k = None
        for s, _is_fix, tg in p[10]:
            if s not in want:
                continue
            k = k or S.key_at(k0, int(epoch))
            rec = recs[s]
            if not hmac.compare_digest(V.tag_of(k, s, rec[0], rec[1]), tg):
                raise _refuse("seal_mismatch")
            c["late_records_verified"] += 1
            want.discard(s)
    if want:  # inside a sealed stretch, listed by no seal the server holds: the export says
        c["late_records_unlisted"] += len(want)  # INSERTED unless a later seal lists them


def _verify(
    tx: Tx,
    tag: str,
    ev: Event,
    p: tuple[Any, ...],
    k: bytes,
    prev: bytes | None,
    recs: dict[int, V.Rec],
    c: Counter[str],
) -> None:
    """One seal (`p`: S.parse of its data) under its epoch's key `k`: its mac, its chain to
    `prev` (the mac of the epoch before, when the server holds it) and every record it lists
    that the batch brings or the server holds. Raises Refused."""
    _kid, _epoch, _first, _last, nfix, nev, evd, pmac, mac, signed, lst = p
    if not hmac.compare_digest(V.mac_of(k, bytes(ev.data[:signed])), mac):
        raise _refuse("seal_forged")
    if prev is not None and pmac != prev:
        raise _refuse("seal_chain")
    lfix = sum(f for _, f, _ in lst)
    if len(lst) - lfix != nev or lfix > nfix or V.event_digest(lst) != evd:
        raise _refuse("seal_missing")  # an event taken out of the seal, or entries added
    if lfix < nfix:  # thinned before upload, their entries taken out of the seal
        c["seal_fixes_absent"] += nfix - lfix
    if lst:
        want = [s for s, _, _ in lst if s not in recs]
        have = stored_records(tx, tag, min(want), max(want)) if want else {}
        for s, is_fix, tg in lst:
            r = recs.get(s) or have.get(s)
            if r is None:
                if not is_fix:
                    raise _refuse("seal_missing")
                c["seal_fixes_absent"] += 1
                continue
            if not hmac.compare_digest(V.tag_of(k, s, r[0], r[1]), tg):
                raise _refuse("seal_mismatch")
            c["sealed_records_verified"] += 1
    c["seals_verified"] += 1


def store(tx: Tx, tag: str, bid: int, ch: Checked) -> None:
    tx.many(
        "INSERT INTO anchors (tag, epoch, seq, hi, mac, batch_id) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (tag, epoch) DO NOTHING",
        [(tag, e, s, hi, mac, bid) for e, s, hi, mac in ch.anchors],
    )
    tx.execute(
        "UPDATE tags SET seal_next_epoch = ?, seal_next_key = ? WHERE tag = ?",
        (ch.next_epoch, ch.next_key, tag),
    )


# A sealing tag's records never run further than this past its newest seal: an epoch ends at
# SEAL_MAX records at most, and a reboot (whose seq gap is MAX_FIXES and a little) seals at once.
UNSEALED_SEQS = 4 * S.SEAL_MAX


def flag(
    tx: Tx,
    tag: str,
    b: Batch,
    ch: Checked | None,
    st: SealState,
    now_ms: int,
    c: Counter[str],
    acked: int,
) -> None:
    """The policy for a sealing tag (one provisioned with k0) whose batches bring records
    further than UNSEALED_SEQS past its newest verified seal: its key slot is lost, its seals
    were given up for space, or its firmware does not seal. The batch is stored, not refused
    (its alerts must reach the people monitoring), counted `batches_unsealed`, and one server
    alert `unsealed` opens for the tag; it clears when a verified seal catches up. `st`: the
    state before this batch, whose own verified seals `ch` are counted here. Only a batch that
    continues the acknowledged log (`acked`, before it) is judged: one sent ahead of the
    backlog (an alert's, from the alert on, its seal too big to go with it) can be any
    distance past the newest seal, whose successors come with the backlog it skipped."""
    if b.last < b.first or st.k0 is None or b.first > acked + 1:
        return
    hi = st.hi
    if ch is not None:
        hi = max([hi, *(a[2] for a in ch.anchors)])
    if b.last - hi > UNSEALED_SEQS:
        c["batches_unsealed"] += 1
        if not st.flagged:
            tx.execute(
                "INSERT INTO alerts (tag, kind, source, subject, seq, t, raised_ms, data) "
                "VALUES (?, ?, 'server', 'seals', NULL, ?, ?, ?)",
                (tag, K.UNSEALED, now_ms // 1000, now_ms, b""),
            )
    elif st.flagged and ch is not None:
        tx.execute(
            "UPDATE alerts SET cleared_ms = ? WHERE tag = ? AND kind = ? AND cleared_ms IS NULL",
            (now_ms, tag, K.UNSEALED),
        )


def anchors(tx: Tx, tag: str) -> V.Anchors:
    """What the server holds for a tag: its acknowledged point and every verified seal."""
    r = tx.execute("SELECT acked FROM tags WHERE tag = ?", (tag,)).one()
    seals = {
        int(e): bytes(m)
        for e, m in tx.execute("SELECT epoch, mac FROM anchors WHERE tag = ?", (tag,)).all()
    }
    return V.Anchors(int(r[0]) if r else 0, seals)


def export_all(tx: Tx, tag: str, lo: int = 0, hi: int = 1 << 62) -> dict[str, Any]:
    """The server's records of a tag (seq range) and its anchors, as `opentag verify` reads."""
    recs = stored_records(tx, tag, lo, hi)
    return {
        "tag": tag,
        "records": V.export_records(recs),
        "anchors": V.anchors_to_json(anchors(tx, tag)),
    }
