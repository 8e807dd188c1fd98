"""Tampering with a sealed log: every kind is detected and named in the report; an honest log
(thinning, power cuts) always verifies. Logs come from the real store with its sealer
(tests/mpy/seal_run.py's workload, in process); the attacker edits records with valid frames
(CRCs recomputed), as someone holding the tag and the store's code could."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seal_run import K0, KID, run
from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import Store
from taghost import verify as V
from test_store import MemFs, mkfix

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def records(fs: Any) -> dict[int, V.Rec]:
    names = sorted(n for n in fs.files if n.startswith("s"))
    return V.read_frames([bytes(fs.files[n]) for n in names])


def anchors_of(recs: dict[int, V.Rec]) -> V.Anchors:
    """What a server that took every record and seal of `recs` holds."""
    seals = {}
    for _s, (k, v) in recs.items():
        if k == R.EV_SEAL:
            p = S.parse(v[1])
            assert p is not None
            seals[p[1]] = p[8]
    return V.Anchors(max(recs), seals)


NO_ACK = V.Anchors(0, {})  # nothing acknowledged yet: the tag deleted nothing


def sealed_seqs(recs: dict[int, V.Rec]) -> list[int]:
    out = []
    for k, v in recs.values():
        if k == R.EV_SEAL:
            p = S.parse(v[1])
            assert p is not None
            out += [s for s, _, _ in p[10] if s in recs]
    return sorted(out)


_CACHE: dict[tuple, dict[int, V.Rec]] = {}


def honest(n: int = 700, seg: int = 4096, maxseg: int = 60, cut: int = 0, **kw: Any) -> dict:
    key = (n, seg, maxseg, cut, tuple(sorted(kw.items())))
    if key not in _CACHE:
        fs, _, _, _ = run(n, seg, maxseg, cut, **kw)
        _CACHE[key] = records(fs)
    return dict(_CACHE[key])


def broken(recs: dict, code: str, anchors: V.Anchors | None = NO_ACK) -> V.Report:
    rep = V.verify(recs, K0, KID, anchors)
    assert not rep.ok, rep.text()
    assert code in rep.codes(), rep.text()
    assert code in rep.text()  # named in the plain report
    return rep


@SETTINGS
@given(
    n=st.integers(50, 900),
    seg=st.sampled_from([512, 700, 1024, 4096]),
    maxseg=st.integers(4, 9),
    cut=st.sampled_from([0, 0, 450, 900, 1700, 4000]),
    x=st.integers(1, 1 << 30),
)
def test_an_honest_log_always_verifies(n: int, seg: int, maxseg: int, cut: int, x: int) -> None:
    fs, _, _, _ = run(n, seg, maxseg, cut, x=x)
    recs = records(fs)
    rep = V.verify(recs, K0, KID, anchors_of(recs))
    assert rep.ok, rep.text()
    assert rep.codes() <= {"THINNED", "UNSEALED_TAIL", "DROPPED_FOR_SPACE", "HEAD_GONE"}
    assert rep.seals >= 1 and rep.verified >= 1
    assert rep.verified + len(rep.seqs("UNSEALED_TAIL")) == rep.records


@SETTINGS
@given(data=st.data())
def test_flipped_record_is_altered(data: st.DataObject) -> None:
    recs = honest()
    s = data.draw(st.sampled_from(sealed_seqs(recs)))
    kind, v = recs[s]
    if kind == R.KIND_FIXES:
        f = data.draw(st.integers(0, 3))
        d = data.draw(st.integers(-1000, 1000).filter(bool))
        vals = list(v)
        vals[f] += d
        recs[s] = (kind, Fix(*vals))
    else:
        bit = data.draw(st.integers(0, 8 * len(v[1]) + 7))
        if bit < 8 * len(v[1]):
            b = bytearray(v[1])
            b[bit // 8] ^= 1 << (bit % 8)
            recs[s] = (kind, (v[0], bytes(b)))
        else:
            recs[s] = (kind, (v[0] + 1 + bit % 8, v[1]))
    rep = broken(recs, "ALTERED")
    assert rep.seqs("ALTERED") == [s]


def test_flipped_frame_on_flash_is_altered() -> None:
    # the attacker rewrites a frame in a segment file, CRC and all
    fs, _, _, _ = run(300, 4096, 60, 0)
    name = sorted(n for n in fs.files if n.startswith("s"))[0]
    data = fs.files[name]
    i = 0
    while data[i + 1] not in (R.EV_ZONE, R.EV_STATUS):
        i += R.check_frame(data, i, len(data))
    ln = R.check_frame(data, i, len(data))
    ((seq, kind, (t, d)),) = R.frame_records(data, i, ln)
    fr = R.frame(kind, seq, R.event_payload(t, bytes([d[0] ^ 4]) + d[1:]))
    assert len(fr) == ln
    data[i : i + ln] = fr
    rep = broken(records(fs), "ALTERED")
    assert rep.seqs("ALTERED") == [seq]


@SETTINGS
@given(data=st.data())
def test_dropped_records_are_missing(data: st.DataObject) -> None:
    recs = honest()
    seqs = sealed_seqs(recs)
    gone = data.draw(st.lists(st.sampled_from(seqs), min_size=1, max_size=5, unique=True))
    for s in gone:
        del recs[s]
    rep = broken(recs, "MISSING")
    assert rep.seqs("MISSING") == sorted(gone)


@SETTINGS
@given(data=st.data())
def test_reordered_records_are_named(data: st.DataObject) -> None:
    recs = honest()
    seqs = sealed_seqs(recs)
    a = data.draw(st.sampled_from(seqs))
    near = [s for s in seqs if s != a and abs(s - a) < 40 and recs[s] != recs[a]]
    b = data.draw(st.sampled_from(near))
    recs[a], recs[b] = recs[b], recs[a]
    rep = V.verify(recs, K0, KID, NO_ACK)
    assert not rep.ok
    assert rep.codes() & {"REORDERED", "ALTERED"}
    # records swapped within one epoch are named as moved, not merely changed
    same = [f for f in rep.findings if f.code == "REORDERED"]
    if same:
        assert set(same[0].seqs) <= {a, b}


@SETTINGS
@given(data=st.data())
def test_spliced_records_are_inserted(data: st.DataObject) -> None:
    # a reboot skips seqs: a record forged into such a gap inside a sealed stretch
    recs = honest(n=600, seg=4096, maxseg=60, cut=3000)
    seqs = sealed_seqs(recs)
    free = [s for s in range(seqs[0], seqs[-1]) if s not in recs]
    assert free
    s = data.draw(st.sampled_from(free))
    t = data.draw(st.integers(0, 1 << 30))
    recs[s] = (R.EV_STATUS, (t, b"\x00"))
    rep = broken(recs, "INSERTED")
    assert rep.seqs("INSERTED") == [s]


@SETTINGS
@given(data=st.data())
def test_spliced_logs_break_the_chain(data: st.DataObject) -> None:
    # the same tag's key, another run's records and seals for a stretch of epochs
    ours = honest()
    other = honest(t=1003)  # the same tag on other days: other fixes, the same epochs
    sealseqs = sorted(s for s, (k, _) in ours.items() if k == R.EV_SEAL)
    j = data.draw(st.integers(1, len(sealseqs) - 2))
    lo, hi = sealseqs[j - 1] + 1, sealseqs[j]
    for s in range(lo, hi + 1):
        ours.pop(s, None)
        if s in other:
            ours[s] = other[s]
    rep = V.verify(ours, K0, KID, NO_ACK)
    assert not rep.ok, rep.text()
    assert rep.codes() & {"CHAIN_BROKEN", "ALTERED", "SEAL_MISSING", "SEAL_ORDER"}, rep.text()


@SETTINGS
@given(data=st.data())
def test_truncated_tail_is_caught_by_the_servers_anchors(data: st.DataObject) -> None:
    full = honest()
    anchors = anchors_of(full)
    cut = data.draw(st.integers(min(full) + 1, max(full) - 1))
    recs = {s: r for s, r in full.items() if s <= cut}
    # alone, a log cut short still verifies (the lesson of FssAgg): only the anchors tell
    assert V.verify(recs, K0, KID).ok
    rep = broken(recs, "TRUNCATED", anchors)
    assert str(max(recs)) in rep.text()


def test_another_tags_frames_replayed_are_foreign() -> None:
    ours = honest(n=200)
    theirs = honest(n=900, kid=b"\x09" * 8, k0=bytes(32 * [5]))
    for s, r in theirs.items():
        if s > max(ours):
            ours[s] = r
    rep = broken(ours, "FOREIGN")
    assert "0909090909090909" in rep.text()


def test_rolled_back_log_is_named() -> None:
    fs, _, _, t = run(400, 4096, 60, 0)
    copy_then = copy.deepcopy(fs.files)  # flash imaged (log and key slot) at this point
    fs, _, _, _ = run(300, 4096, 60, 0, fs=fs, t=t)
    anchors = anchors_of(records(fs))  # the server took everything since
    # restored: with nothing written since, the log simply ends early
    fs.files = copy.deepcopy(copy_then)
    broken(records(fs), "TRUNCATED", anchors)
    # restored and written again (other fixes, the old key slot): the epochs fork
    fs, _, _, _ = run(300, 4096, 60, 0, fs=fs, t=t + 7, x=4242)
    rep = broken(records(fs), "ROLLED_BACK", anchors)
    assert "ROLLED_BACK" in rep.text()


@SETTINGS
@given(data=st.data())
def test_a_forged_thinning_account_excuses_nothing(data: st.DataObject) -> None:
    # drop sealed fixes and append an EV_THINNED that claims them (no seal covers it)
    recs = honest()
    fixes = [s for s in sealed_seqs(recs) if recs[s][0] == R.KIND_FIXES]
    gone = data.draw(st.lists(st.sampled_from(fixes), min_size=1, max_size=6, unique=True))
    for s in gone:
        del recs[s]
    d = bytearray()
    for v in (len(gone), min(gone), max(gone), len(gone)):
        R.put_varint(d, v)
    recs[max(recs) + 1] = (R.EV_THINNED, (0, bytes(d)))
    rep = broken(recs, "MISSING")
    assert rep.seqs("MISSING") == sorted(gone) and "THINNED" not in rep.codes()


def without_entry(data: bytes, gone: int) -> bytes:
    """A seal's data with the entry of seq `gone` taken out (as thinning does for a fix)."""
    p = S.parse(data)
    assert p is not None
    out = bytearray(data[: p[9] + S.MAC_LEN])
    last = p[2]
    for s, f, tg in p[10]:
        if s == gone:
            continue
        R.put_varint(out, ((s - last) << 1) | f)
        last = s
        out += tg
    return bytes(out)


def seal_of(recs: dict, seq: int) -> int:
    for s, (k, v) in sorted(recs.items()):
        if k == R.EV_SEAL and any(e[0] == seq for e in S.parse(v[1])[10]):
            return s
    raise AssertionError(seq)


@SETTINGS
@given(data=st.data())
def test_records_taken_out_of_their_seal_are_missing(data: st.DataObject) -> None:
    # the record and its entry both gone: an event never goes that way (its entries are
    # signed), a fix only with a sealed thinning account
    recs = honest()
    s = data.draw(st.sampled_from(sealed_seqs(recs)))
    kind = recs[s][0]
    ss = seal_of(recs, s)
    t, d = recs[ss][1]
    recs[ss] = (R.EV_SEAL, (t, without_entry(d, s)))
    del recs[s]
    rep = broken(recs, "MISSING")
    assert rep.seqs("MISSING") == [ss]  # named by the seal that lost it
    if kind != R.KIND_FIXES:
        assert "events" in rep.text()


def test_thinning_takes_entries_out_of_seals_and_the_log_still_verifies() -> None:
    fs, stor, _, _ = run(1500, 1024, 5, 0)
    assert stor.counts.get("seal_entries_thinned", 0) > 100
    rep = V.verify(records(fs), K0, KID)
    assert rep.ok, rep.text()
    assert any("taken out of their seals" in f.detail for f in rep.findings if f.code == "THINNED")


def test_an_honest_log_on_a_full_partition_verifies() -> None:
    # ENOSPC: the store gives up its oldest segments (seals with them), accounted by EV_DROPPED
    fs = MemFs(cap=16 * 1024)
    S.provision(S.FileSlot(fs), K0)
    stor = Store(
        fs,
        0,
        max_segments=100,
        seg_bytes=1024,
        max_fixes=8,
        reserve=1024,
        sealer=S.Sealer(S.FileSlot(fs), KID),
    )
    t = 0
    for k in range(3000):
        t += 30
        stor.append_fix(t, mkfix(k, t))
        if k % 50 == 7:
            stor.append_event(R.EV_STATUS, t, b"x" * 20)
    stor.flush()
    assert stor.counts["dropped"] > 1000
    rep = V.verify(records(fs), K0, KID)
    assert rep.ok, rep.text()
    assert "DROPPED_FOR_SPACE" in rep.codes() and "epochs 0.." in rep.text()


class KeepsOneSource(MemFs):
    """A merge's remove of its newer source fails once: the stale copy stays beside the merged
    segment, as after a cut between the merge's rename and its remove."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: str | None = None

    def remove(self, name: str) -> None:
        if self.kept is None and name.startswith("s"):
            self.kept = name
            raise OSError(5)
        super().remove(name)


def test_a_merges_stale_source_is_no_break_but_a_frame_put_out_of_order_is() -> None:
    fs = KeepsOneSource()
    assert S.provision(S.FileSlot(fs), K0)
    _, stor, _, _ = run(1500, 1024, 5, 0, fs=fs)
    assert fs.kept is not None and fs.kept in fs.files and stor.thinned
    rep = V.Report(KID.hex())
    recs = V.read_frames([bytes(fs.files[n]) for n in sorted(fs.files) if n[0] == "s"], rep)
    V.verify(recs, K0, KID, None, rep)
    assert rep.ok, rep.text()
    # an event frame with an old seq, CRC and all, appended to the newest segment
    newest = sorted(n for n in fs.files if n[0] == "s")[-1]
    s = min(s for s, (k, _) in recs.items() if k == R.EV_STATUS)
    fs.files[newest] += R.frame(R.EV_STATUS, s, R.event_payload(5, b"\x00\x01"))
    rep = V.Report(KID.hex())
    recs = V.read_frames([bytes(fs.files[n]) for n in sorted(fs.files) if n[0] == "s"], rep)
    V.verify(recs, K0, KID, None, rep)
    assert not rep.ok and rep.seqs("CONFLICT") == [s]
