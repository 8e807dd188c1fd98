# The sealed store through a workload with thinning and power cuts, on an in-memory filesystem;
# runs the same under MicroPython and CPython (tests/test_evidence_core.py compares them).
# Usage: seal_run.py N SEG_BYTES MAX_SEGMENTS CUT_EVERY [time]
# Prints "file NAME HEX" lines (every file at the end), "counts ..." and, with `time`,
# "us_per_record X".
import sys
import time

from tagcore import record as R
from tagcore import seal as S
from tagcore.store import Store
from test_store import MemFs, PowerCut, mkfix

KID = b"\x07" * 8
K0 = bytes(range(32))


def main(argv):
    n = int(argv[1])
    seg = int(argv[2])
    maxseg = int(argv[3])
    cut = int(argv[4])  # bytes of output between power cuts (0: none)
    timing = len(argv) > 5
    fs = MemFs()
    slot = S.FileSlot(fs)
    S.provision(slot, K0)
    x = 12345
    t = 1000

    def boot():
        return Store(fs, t, seg_bytes=seg, max_segments=maxseg, sealer=S.Sealer(slot, KID))

    st = boot()
    k = 0
    cuts = 0
    t0 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)
    while k < n:
        if cut:
            fs.budget = cut
        try:
            while k < n:
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                t += 1 if (k // 200) % 2 else 60
                st.append_fix(mkfix(k, t), t)
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
    t1 = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1e6)
    for name in sorted(fs.files):
        print("file", name, bytes(fs.files[name]).hex())
    c = st.counts
    print("counts", cuts, c.get("seals", 0), c.get("thinned", 0), st.next_seq)
    if timing:
        if hasattr(time, "ticks_diff"):
            dt = time.ticks_diff(t1, t0)
        else:
            dt = t1 - t0
        print("us_per_record", dt / n)


main(sys.argv)
