"""CPython: the store on ordinary files under a fault-injecting layer, and hypothesis damage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs
from test_store import MemFs, PowerCut, mkfix, thinned_records


class CutFile:
    """A real file whose writes stop (mid-write: a torn tail) when the layer's budget runs out."""

    def __init__(self, layer: FaultFs, f: Any) -> None:
        self.layer = layer
        self.f = f

    def read(self) -> bytes:
        return self.f.read()

    def readinto(self, buf: bytearray) -> int:
        return self.f.readinto(buf)

    def write(self, b: bytes) -> int:
        lay = self.layer
        if lay.budget is not None and lay.budget < len(b):
            self.f.write(bytes(b[: lay.budget]))
            self.f.close()
            lay.budget = 0
            raise PowerCut()
        if lay.budget is not None:
            lay.budget -= len(b)
        lay.writes += 1
        lay.written += len(b)
        return self.f.write(b)

    def flush(self) -> None:
        self.f.flush()
        os.fsync(self.f.fileno())

    def close(self) -> None:
        self.f.close()


class FaultFs(OsFs):
    def __init__(self, root: str, budget: int | None) -> None:
        super().__init__(root)
        self.budget = budget
        self.writes = 0
        self.written = 0

    def open(self, name: str, mode: str) -> CutFile:
        return CutFile(self, open(self.root + "/" + name, mode))

    def rename(self, a: str, b: str) -> None:
        if self.budget is not None and self.budget <= 0:
            raise PowerCut()
        super().rename(a, b)


def workload(fs: FaultFs, model: dict[str, Any]) -> None:
    """1 Hz and 1/min fixes, events, acks and resets (RAM lost, recovery from the files)."""
    durable: list[int] = model["durable"]
    issued: dict[int, Any] = model["issued"]
    t = 1000
    k = 0
    for phase in range(6):
        stor = Store(fs, t, seg_bytes=512, max_fixes=8, max_age=120)
        pend: list[int] = []
        rate = 1 if phase % 2 == 0 else 60
        for i in range(25):
            t += rate
            k += 1
            f = mkfix(k, t)
            model["inflight"] = (stor.next_seq, f)
            seq, d = stor.append_fix(t, f)
            issued[seq] = f
            pend.append(seq)
            if d:
                durable.extend(pend)
                pend = []
            if i % 8 == 3:
                ev = (t, bytes((k & 255,)))
                model["inflight"] = (stor.next_seq, ev)
                seq, d = stor.append_event(R.EV_PROXIMITY, t, ev[1])
                issued[seq] = ev
                durable.extend([*pend, seq])
                pend = []
            if i == 15 and stor.durable_seq() > 6:
                model["acked"] = stor.durable_seq() - 6
                stor.ack(model["acked"])


def check(root: str, model: dict[str, Any]) -> None:
    stor = Store(OsFs(root), 10**6)
    got = stor.read(0, 10**6)[0]
    prev = 0
    have = set()
    for seq, kind, val in got:
        assert seq > prev
        prev = seq
        have.add(seq)
        if kind == R.EV_BOOT:
            continue
        want = model["issued"].get(seq)
        if want is None and model["inflight"] and model["inflight"][0] == seq:
            want = model["inflight"][1]
        assert want == val, seq
    lost = [s for s in model["durable"] if s > model["acked"] and s not in have]
    assert not lost
    top = max([*list(model["issued"]), model["inflight"][0] if model["inflight"] else 0])
    assert stor.boot_seq > top


def new_model() -> dict[str, Any]:
    return {"issued": {}, "durable": [], "acked": 0, "inflight": None}


def test_power_cut_on_files(tmp_path: Path) -> None:
    full = FaultFs(str(tmp_path / "full"), None)
    os.mkdir(full.root)
    workload(full, new_model())
    total = full.written
    assert full.writes > 50
    # a cut every 3 bytes covers every write boundary neighbourhood and many mid-write tears
    points = range(0, total + 1, 3)
    for n, budget in enumerate(points):
        root = str(tmp_path / f"c{n}")
        os.mkdir(root)
        model = new_model()
        try:
            workload(FaultFs(root, budget), model)
        except PowerCut:
            pass
        check(root, model)
    assert len(points) > 900


def build_log(n: int) -> tuple[MemFs, list[int]]:
    fs = MemFs()
    stor = Store(fs, 0, seg_bytes=256, max_fixes=5, reserve=0)  # segment files only
    for k in range(n):
        stor.append_fix(100 + 5 * k, mkfix(k, 100 + 5 * k))
        if k % 9 == 4:
            stor.append_event(R.EV_LOC_LOST, 100 + 5 * k, b"gone")
    stor.flush()
    return fs, [r[0] for r in stor.read(0, 10**6)[0]]


def frames_before(data: bytes, cut: int) -> list[int]:
    """Seqs of the records in frames lying wholly before byte `cut` of a segment."""
    out = []
    i = 0
    while i < len(data):
        ln = R.check_frame(data, i, len(data))
        if not ln or i + ln > cut:
            break
        out += [r[0] for r in R.frame_records(data, i, ln)]
        i += ln
    return out


damage = st.tuples(
    st.integers(0, 10**6),
    st.sampled_from(["flip", "truncate", "random", "insert"]),
    st.integers(0, 10**6),
    st.binary(max_size=64),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 60), st.lists(damage, max_size=4), st.binary(max_size=300))
def test_damage_never_crashes_recovery(n: int, hits: list, garbage: bytes) -> None:
    fs, _ = build_log(n)
    names = sorted(fs.files)
    first_bad: dict[str, int] = {}
    for which, how, pos, blob in hits:
        name = names[which % len(names)]
        data = fs.files[name]
        p = pos % (len(data) + 1)
        if how == "flip" and data:
            p = pos % len(data)
            data[p] ^= 1 << (pos % 8)
        elif how == "truncate":
            del data[p:]
        elif how == "random":
            data[p : p + len(blob)] = blob
        else:
            data[p:p] = blob
        first_bad[name] = min(first_bad.get(name, p), p)
    orig = {nm: bytes(fs.files[nm]) for nm in names}
    fs.files["s" + "9" * 8] = bytearray(garbage)  # a whole segment of random bytes
    stor = Store(fs, 1)
    got = [r[0] for r in stor.read(0, 10**6)[0]]
    assert got == sorted(set(got))
    for nm in names:
        if nm[0] != "s":  # the floor file (damage to it must not crash recovery either)
            continue
        # frames wholly before the first damage in each segment survive
        for s in frames_before(orig[nm], first_bad.get(nm, 10**9)):
            assert s in got
    assert stor.boot_seq > max(got[:-1], default=0)


def model_step(
    stor: Store, model: dict[str, Any], k: int, pend: list[int], event_every: int
) -> list[int]:
    """Fix k at 60 k s (and a tamper event every `event_every` fixes), tracked in the model as
    issued, in flight and durable; returns the seqs still waiting to become durable."""
    f = mkfix(k, 60 * k)
    model["inflight"] = (stor.next_seq, f)
    seq, d = stor.append_fix(60 * k, f)
    model["issued"][seq] = f
    pend.append(seq)
    if d:
        model["durable"].extend(pend)
        pend = []
    if k % event_every == 5:
        ev = (60 * k, b"t")
        model["inflight"] = (stor.next_seq, ev)
        seq, d = stor.append_event(R.EV_TAMPER, 60 * k, b"t")
        model["issued"][seq] = ev
        model["events"].append(seq)
        model["durable"].extend([*pend, seq])
        pend = []
    return pend


def thin_workload(fs: MemFs, model: dict[str, Any]) -> None:
    # a long gap without acks on a small budget: the oldest segments get thinned and merged
    stor = Store(fs, 0, max_segments=4, seg_bytes=400, max_fixes=8, max_age=600)
    model["thinned"] = 0
    pend: list[int] = []
    for k in range(150):
        pend = model_step(stor, model, k, pend, event_every=11)
        model["thinned"] = stor.thinned


def test_power_cut_while_thinning() -> None:
    full = MemFs()
    model: dict[str, Any] = {**new_model(), "events": []}
    thin_workload(full, model)
    assert model["thinned"] > 20
    # uncut, the store's own EV_THINNED records account for every fix it thinned
    logged = thinned_records(Store(full, 1).read(0, 10**6)[0])
    assert sum(x[0] for x in logged) == model["thinned"]
    total = full.writes
    for budget in range(0, total + 1, 2):
        fs = MemFs(budget)
        model = {**new_model(), "events": []}
        try:
            thin_workload(fs, model)
        except PowerCut:
            pass
        fs.budget = None
        stor = Store(fs, 1)
        got = stor.read(0, 10**6)[0]
        seqs = [r[0] for r in got]
        assert seqs == sorted(set(seqs))
        for seq, kind, val in got:
            if kind in (R.EV_BOOT, R.EV_THINNED):  # written by the store itself
                continue
            want = model["issued"].get(seq)
            # the in-flight record may land above the guess: an EV_THINNED logged first takes it
            if want is None and model["inflight"] and model["inflight"][0] <= seq:
                want = model["inflight"][1]
            assert want == val, (budget, seq)
        have = set(seqs)
        fixes = [r[0] for r in got if r[1] == R.KIND_FIXES]
        missing = 0
        for s in model["durable"]:
            if s in have:
                continue
            # only fixes may go, and only by thinning: the first fix of their batch stays
            assert s not in model["events"], (budget, s)
            assert fixes and fixes[0] < s, (budget, s)
            missing += 1
        # the log never claims more thinning than went; a cut between a merge and its record
        # may leave fewer claimed (the doubled strides still say which went)
        assert sum(x[0] for x in thinned_records(got)) <= missing, budget
        top = max([*model["issued"], model["inflight"][0] if model["inflight"] else 0])
        assert stor.boot_seq > top


class OpCutFs(MemFs):
    """A MemFs whose power goes before its Nth mutating operation (open to write, write, rename,
    remove): every point between two steps of a merge (copy, rename, remove, the EV_THINNED
    after it, the next segment's first write) is a cut point."""

    def __init__(self, ops: int | None) -> None:
        super().__init__()
        self.ops = ops
        self.done = 0

    def _op(self) -> None:
        if self.ops is not None and self.done >= self.ops:
            raise PowerCut()
        self.done += 1

    def open(self, name: str, mode: str) -> Any:
        if "r" not in mode:
            self._op()
        f = super().open(name, mode)
        if "r" not in mode:
            w = f.write

            def write(b: bytes) -> int:
                self._op()
                return w(b)

            f.write = write  # type: ignore[method-assign]
        return f

    def rename(self, a: str, b: str) -> None:
        self._op()
        super().rename(a, b)

    def remove(self, name: str) -> None:
        self._op()
        super().remove(name)


DEEP = {"max_segments": 3, "seg_bytes": 256, "max_fixes": 2, "max_age": 600}


def deep_thin_workload(fs: MemFs, model: dict[str, Any], n: int = 400) -> None:
    # few fixes per frame and a tiny budget: runs are thinned again and again (strides of 8 and
    # more), so a run's dropped last fix lies well beyond max_fixes of the merged copy's end
    stor = Store(fs, 0, **DEEP)
    model["store"] = stor
    pend: list[int] = []
    for k in range(n):
        pend = model_step(stor, model, k, pend, event_every=97)
        for r in stor.read(0, 10**6, include_buffer=True)[0] if k % 50 == 49 else ():
            model["served"].add(r[0])


def test_power_cut_at_every_step_of_a_merge() -> None:
    # items 13 and 14: after a cut anywhere in a merge no seq handed out is handed out again,
    # read() serves only what recovery indexed (never a merge's stale source), and every
    # durable fix that is gone is accounted for by an EV_THINNED
    full = OpCutFs(None)
    model: dict[str, Any] = {**new_model(), "events": [], "served": set()}
    deep_thin_workload(full, model)
    assert model["store"].thinned > 200
    total = full.done
    for ops in range(total + 1):
        fs = OpCutFs(ops)
        model = {**new_model(), "events": [], "served": set()}
        try:
            deep_thin_workload(fs, model)
        except PowerCut:
            pass
        fs.ops = None
        stor = Store(fs, 1, **DEEP)  # the tag recovers with the configuration it ran with
        got = stor.read(0, 10**6)[0]
        seqs = [r[0] for r in got]
        assert seqs == sorted(set(seqs)), ops
        for seq, kind, val in got:
            if kind in (R.EV_BOOT, R.EV_THINNED):
                continue
            want = model["issued"].get(seq)
            if want is None and model["inflight"] and model["inflight"][0] <= seq:
                want = model["inflight"][1]
            assert want == val, (ops, seq)
        top = max([*model["issued"], *model["served"], (model["inflight"] or (0,))[0]])
        assert stor.boot_seq > top, (ops, stor.boot_seq, top)
        s = stor.append_fix(10**6, mkfix(0, 10**6))[0]
        assert s > top, ops
        have = set(seqs)
        missing = [s for s in model["durable"] if s not in have]
        for s in missing:
            assert s not in model["events"], (ops, s)
        claimed = sum(x[0] for x in thinned_records(got))
        assert claimed == len(missing), (ops, claimed, len(missing))
        # what read() served is what the next boot finds, but for fixes that boot thinned
        # (its EV_BOOT may need room): never a record that only one of them saw otherwise
        st2 = Store(fs, 2, **DEEP)
        again = [r for r in st2.read(0, 10**6)[0] if r[1] != R.EV_BOOT and r[0] <= seqs[-1]]
        first = [r for r in got if r[1] != R.EV_BOOT]
        assert all(r in first for r in again), ops
        gone = [r for r in first if r not in again]
        assert all(r[1] == R.KIND_FIXES for r in gone) and len(gone) <= st2.thinned, (ops, gone)
    assert total > 300


def test_out_of_memory_is_never_damage(monkeypatch: Any) -> None:
    # item 16: a frame that cannot be decoded for lack of memory, at any point of a read or of
    # recovery, is never skipped: read() stops before it and says so; recovery keeps it
    fs, seqs = build_log(120)
    real = R.frame_records
    for k in range(40):
        calls = [0]

        def flaky(b: Any, i: int, ln: int, calls: list = calls, k: int = k) -> Any:
            calls[0] += 1
            if calls[0] > k:
                raise MemoryError
            return real(b, i, ln)

        monkeypatch.setattr(R, "frame_records", flaky)
        stor = Store(fs, 1)  # recovery under the same shortage
        got, failed = stor.read(0, 10**6)
        monkeypatch.setattr(R, "frame_records", real)
        got_seqs = [r[0] for r in got]
        assert got_seqs == seqs[: len(got_seqs)], k  # a prefix: nothing skipped
        if len(got_seqs) < len(seqs):
            assert failed == "nomem", k
        # memory back: recovery kept every frame
        assert [r[0] for r in Store(fs, 2).read(0, 10**6)[0]][: len(seqs)] == seqs, k


def test_no_memory_for_a_segments_walk_is_never_damage(monkeypatch: Any) -> None:
    # issue 16: the walk over a segment (Store.frames, a generator: an allocation) that the heap
    # cannot give is what a segment it cannot load is: recovery keeps it (a hole), read() (which
    # walks without a generator) stops before the hole and says so, newest_fix_t gives up;
    # nothing raises, nothing is skipped
    fs, seqs = build_log(120)
    want = seqs[1:]  # seqs[0] is build_log's own boot record: boot records are not compared
    real = Store.frames
    for k in range(30):
        calls = [0]

        def flaky(st: Store, *a: Any, calls: list = calls, k: int = k) -> Any:
            calls[0] += 1
            if calls[0] > k:
                raise MemoryError
            return real(st, *a)

        monkeypatch.setattr(Store, "frames", flaky)
        stor = Store(fs, 1)  # recovery under the same shortage
        got, failed = stor.read(0, 10**6)
        stor.newest_fix_t()
        monkeypatch.setattr(Store, "frames", real)
        got_seqs = [r[0] for r in got if r[1] != R.EV_BOOT]
        assert got_seqs == want[: len(got_seqs)], k  # a prefix: nothing skipped
        if len(got_seqs) < len(want):
            assert failed in ("nomem", "unreadable"), k
        # memory back: recovery kept every frame
        assert [r[0] for r in Store(fs, 2).read(0, 10**6)[0]][: len(seqs)] == seqs, k


FULL = {"max_segments": 1000, "seg_bytes": 256, "max_fixes": 4}


def alert_full_workload(fs: MemFs, model: dict[str, Any], n: int = 150) -> None:
    # a partition that fills with segments that each hold an alert: compaction (intent,
    # temporary file, rename, remove, EV_DROPPED, the reserve taken and made again) runs
    # again and again
    stor = Store(fs, 0, **FULL)
    model["store"] = stor
    pend: list[int] = []
    for k in range(n):
        f = mkfix(k, 60 * k)
        model["inflight"] = (stor.next_seq, f)
        seq, d = stor.append_fix(60 * k, f)
        if seq:
            model["issued"][seq] = f
            pend.append(seq)
        for kind, data in ((R.EV_STATUS, b"status %d" % k), (R.EV_TAMPER, b"!")):
            if kind == R.EV_TAMPER and k % 3:
                continue
            model["inflight"] = (stor.next_seq, (60 * k, data))
            seq, d = stor.append_event(kind, 60 * k, data)
            if not seq:
                continue
            model["issued"][seq] = (60 * k, data)
            model["kinds"][seq] = kind
            if d:
                model["durable"].extend([*pend, seq])
            pend = []


def test_power_cut_at_every_step_of_a_compaction() -> None:
    # item 15: a cut before any filesystem operation of a full partition's compactions never
    # loses an alert, never hands out a seq twice, and leaves every durable record that went
    # accounted for by an EV_DROPPED (none claimed for records still there)
    cap = 24 * 256
    full = OpCutFs(None)
    full.cap = cap
    model: dict[str, Any] = {**new_model(), "kinds": {}}
    alert_full_workload(full, model)
    assert model["store"].counts.get("compacted", 0) > 5
    total = full.done
    for ops in range(0, total + 1):
        fs = OpCutFs(ops)
        fs.cap = cap
        model = {**new_model(), "kinds": {}}
        try:
            alert_full_workload(fs, model)
        except PowerCut:
            pass
        fs.ops = None
        stor = Store(fs, 1, **FULL)
        got = read_all_of(stor)
        seqs = [r[0] for r in got]
        assert seqs == sorted(set(seqs)), ops
        for seq, kind, val in got:
            if kind in (R.EV_BOOT, R.EV_THINNED, R.EV_DROPPED):
                continue
            want = model["issued"].get(seq)
            if want is None and model["inflight"] and model["inflight"][0] <= seq:
                want = model["inflight"][1]
            assert want == val, (ops, seq)
        have = set(seqs)
        missing = [s for s in model["durable"] if s not in have]
        for s in missing:
            assert model["kinds"].get(s) != R.EV_TAMPER, (ops, s)  # an alert never goes
        dropped = [r for r in got if r[1] == R.EV_DROPPED]
        claimed = 0
        for r in dropped:
            d = r[2][1]
            v = []
            i = 0
            while i < len(d):
                u, i = R.get_varint(d, i, len(d))
                v.append(u)
            claimed += v[0] + v[3]
        assert claimed >= len(missing), (ops, claimed, len(missing))
        gone = [s for s in model["issued"] if s not in have]  # written or not
        assert claimed <= len(gone), (ops, claimed, len(gone))
        top = max([*model["issued"], (model["inflight"] or (0,))[0]])
        assert stor.boot_seq == 0 or stor.boot_seq > top, (ops, stor.boot_seq, top)
    assert total > 300


def read_all_of(stor: Store) -> list:
    out: list = []
    nxt = 0
    while True:
        recs, failed = stor.read(nxt, 200)
        assert failed is None
        if not recs:
            return out
        out.extend(recs)
        nxt = recs[-1][0] + 1


ALERT_KINDS = (R.EV_ZONE, R.EV_TAMPER, R.EV_LOC_LOST, R.EV_PROXIMITY, R.EV_INTEGRITY)
OTHER_KINDS = (R.EV_STATUS, R.EV_LOW_BATTERY, R.EV_POWER, 40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([256, 512]),
    st.integers(8, 24),
    st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.integers(0, 4), st.integers(0, 60)),
        min_size=50,
        max_size=400,
    ),
)
def test_full_partition_never_loses_an_alert(seg: int, blocks: int, steps: list) -> None:
    # item 15, any mix: fixes, events of every kind and size, alerts anywhere, on a partition
    # that fills. Alerts are taken while they (and what compaction keeps with them) fill less
    # than half of it; every alert stored stays; every record promised durable is there
    # or accounted by an EV_DROPPED, which never claims more than went; no seq is reused.
    fs = MemFs(cap=blocks * seg)
    cfg = {"seg_bytes": seg, "max_fixes": 4, "max_segments": 1000}
    stor = Store(fs, 0, **cfg)
    issued: dict[int, Any] = {}
    alerts = []
    durable: list[int] = []
    pend: list[int] = []
    t = 0
    kept_bytes = 0
    for k, (fixes, alert, kind, size) in enumerate(steps):
        for _ in range(fixes):
            t += 60
            s, d = stor.append_fix(t, mkfix(k, t))
            if s:
                issued[s] = mkfix(k, t)
                pend.append(s)
                if d:
                    durable += pend
                    pend = []
        kinds = ALERT_KINDS if alert else OTHER_KINDS
        data = bytes((k & 255,)) * (size if not alert else size % 8 + 1)
        s, d = stor.append_event(kinds[kind % len(kinds)], t, data)
        if alert:
            # what compaction keeps of an alert: its frame (<= 25 B) and a fix frame (<= 40 B)
            kept_bytes += 65
            if kept_bytes < blocks * seg // 2:  # the store was full only of what it keeps
                assert d, (k, stor.counts)  # (it stopped storing here before compaction)
        if s:
            issued[s] = (t, data)
            if alert and d:
                alerts.append(s)
            if d:
                durable += [*pend, s]
        pend = []
    stor2 = Store(fs, t + 1, **cfg)
    got = read_all_of(stor2)
    seqs = [r[0] for r in got]
    assert seqs == sorted(set(seqs))
    have = set(seqs)
    for s in alerts:
        assert s in have, s
    claimed = 0
    for seq, kind, val in got:
        if kind == R.EV_DROPPED:
            d = val[1]
            v = []
            i = 0
            while i < len(d):
                u, i = R.get_varint(d, i, len(d))
                v.append(u)
            claimed += v[0] + v[3]
        elif kind != R.EV_BOOT:
            assert issued.get(seq) == val, seq
    missing = [s for s in durable if s not in have]
    assert claimed >= len(missing)
    assert claimed <= len([s for s in issued if s not in have])
    assert stor2.boot_seq == 0 or stor2.boot_seq > max(issued, default=0)
