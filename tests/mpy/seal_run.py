# The sealed store through a workload with thinning and power cuts, on an in-memory filesystem;
# runs the same under MicroPython and CPython (tests/test_evidence_core.py compares them).
# Usage: seal_run.py N SEG_BYTES MAX_SEGMENTS CUT_EVERY [time|plain]
# Prints "file NAME HEX" lines (every file at the end), "counts ..." and, with `time`,
# "us_per_record X" (plain: the same store without a sealer).
import sys
import time

from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import Store
from test_store import MemFs, PowerCut, mkfix

KID = b"\x07" * 8
K0 = bytes(range(32))


def run(n, seg, maxseg, cut, fs=None, t=1000, x=12345, kid=KID, k0=K0, sealed=True):
    """The workload: n fixes (1 Hz and 1/min stretches), an event now and then, a power cut
    every `cut` bytes of output (0: none). Returns (fs, store, cuts, t)."""
    if fs is None:
        fs = MemFs()
        if sealed:
            S.provision(S.FileSlot(fs), k0)
    slot = S.FileSlot(fs)

    def boot():
        sl = S.Sealer(slot, kid) if sealed else None
        return Store(fs, t, seg_bytes=seg, max_segments=maxseg, sealer=sl)

    st = boot()
    k = 0
    cuts = 0
    while k < n:
        if cut:
            fs.budget = cut
        try:
            while k < n:
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                t += 1 if (k // 200) % 2 else 60
                st.append_fix(t, mkfix(k, t))
                if x % 53 == 0:
                    st.append_event(R.EV_ZONE if x & 1 else R.EV_STATUS, t, bytes((x & 0xFF, 1)))
                k += 1
            st.flush()
        except PowerCut:
            cuts += 1
            fs.budget = None
            t += 5
            st = boot()
    fs.budget = None
    return fs, st, cuts, t


def now_us():
    return time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)


def main(argv):
    n = int(argv[1])
    timing = argv[5] if len(argv) > 5 else ""
    t0 = now_us()
    fs, st, cuts, _ = run(n, int(argv[2]), int(argv[3]), int(argv[4]), sealed=timing != "plain")
    t1 = now_us()
    for name in sorted(fs.files):
        print("file", name, bytes(fs.files[name]).hex())
    c = st.counts
    print("counts", cuts, c.get("seals", 0), c.get("thinned", 0), st.next_seq)
    if timing:
        dt = time.ticks_diff(t1, t0) if hasattr(time, "ticks_diff") else t1 - t0
        print("us_per_record", dt / n)


if __name__ == "__main__":
    main(sys.argv)
