"""CPython: a sequence number, once returned, is never returned again for another record (issue 13
item 13), across consecutive boots at each of which any set of segments cannot be read: no
memory to load it, an I/O error, or bytes spoilt or cut off on flash. Recovery cannot see what
such a segment held, so the seq it resumes at must come from something it can read."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagcore.store import record as R
from tagcore.store.log import Store
from test_store import MemFs, mkfix

# a fault on one segment at one boot: (which, counted from the newest, how, where in the file)
FAULT = st.tuples(
    st.integers(0, 12), st.sampled_from(["nomem", "ioerr", "spoil", "cut"]), st.integers(0, 600)
)
# one run between resets: what is appended (fixes, an event), then maybe an ack
RUN = st.tuples(
    st.lists(st.one_of(st.integers(1, 30), st.just(0)), max_size=8),
    st.booleans(),
    st.lists(FAULT, max_size=4),  # the faults of the boot that ends the run
)


class FailFs(MemFs):
    """MemFs whose open() of the named files raises, during a boot only."""

    def __init__(self) -> None:
        super().__init__()
        self.fail: dict[str, str] = {}

    def open(self, name: str, mode: str) -> Any:
        how = self.fail.get(name)
        if how == "nomem" and "r" in mode:
            raise MemoryError()
        if how == "ioerr" and "r" in mode:
            raise OSError(5)
        return super().open(name, mode)


def boot(fs: FailFs, now: int, faults: list, max_segments: int) -> Store:
    segs = [n for n in sorted(fs.files) if n[0] == "s"]
    fs.fail = {}
    for back, how, at in faults:
        if back >= len(segs):
            continue
        name = segs[-1 - back]
        data = fs.files[name]
        if how in ("nomem", "ioerr"):
            fs.fail[name] = how
        elif how == "spoil" and data:
            k = at % len(data)
            data[k : k + 3] = bytes((b ^ 0x5A) for b in data[k : k + 3])
        elif how == "cut":
            del data[at % (len(data) + 1) :]
    try:
        return Store(fs, now, max_segments=max_segments, seg_bytes=256, max_fixes=6)
    finally:
        fs.fail = {}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(RUN, min_size=1, max_size=8), st.sampled_from([1000, 4]))
def test_seqs_strictly_increase_across_boots_with_unreadable_segments(
    runs: list, max_segments: int
) -> None:
    fs = FailFs()
    now = 800_000_000
    k = 0
    stor = boot(fs, now, [], max_segments)
    handed = [stor.boot_seq]  # every seq returned, in the order returned
    for adds, ack, faults in runs:
        for n in adds:
            now += 30
            if n == 0:
                seq, _ = stor.append_event(R.EV_TAMPER, now, b"\x01")
                if seq:
                    handed.append(seq)
                continue
            for _ in range(n):
                now += 10
                seq, _ = stor.append_fix(now, mkfix(k, now))
                k += 1
                if seq:
                    handed.append(seq)
        if ack:
            stor.ack(handed[len(handed) // 2])
        stor._close()  # a reset: RAM (the buffered fixes) is lost
        now += 5
        stor = boot(fs, now, faults, max_segments)
        if stor.boot_seq:
            handed.append(stor.boot_seq)
        for a, b in itertools.pairwise(handed):
            assert a < b, (a, b, handed[-12:])
