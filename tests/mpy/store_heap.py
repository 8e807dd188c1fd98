# Heap driver (bench/bench_store.py runs it inside MicroPython at several heap sizes): the store
# with 4 KB segments on files of the host (the unix port's own filesystem, so the log itself
# takes no heap), a 1 fix/min track with a status event every 6 hours, past the point where the
# log is thinned again and again. Prints "key value" lines: whether the budget held.
# Usage: micropython -m store_heap DIR MAX_SEGMENTS FIXES [PIECES [RESERVE]]
#   PIECES 1: once the store is made, the rest of the heap is left as the whole tag leaves it
#   after boot: filled with small objects, every other one then freed, so what is free is in
#   pieces of 2 KB (docs/device.md: the tag's boot leaves 84 KB free with no 5 KB block).
#   RESERVE 1: the store takes its merge buffers at start-up (Store.reserve_merge), as the
#   device shell does.
import gc
import sys

from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs


def walk(k, t):
    return Fix(
        t,
        0,
        51500000 + (k * 7) % 900 + k // 3,
        -120000 + (k * 5) % 700,
        312 + k % 4,
        (k * 13) % 180,
        (k * 2711) % 36000,
        45 + k % 20,
        95 + k % 40,
        6 + k % 6,
        1,
        3,
        1,
    )


def main():
    root = sys.argv[1]
    budget = int(sys.argv[2])
    n = int(sys.argv[3])
    pieces = len(sys.argv) > 4 and sys.argv[4] == "1"
    gc.collect()
    st = Store(OsFs(root), 0, max_segments=budget)
    if len(sys.argv) > 5 and sys.argv[5] == "1":
        st.reserve_merge()
    held = []
    if pieces:
        try:
            while True:
                held.append(bytearray(2000))
        except MemoryError:
            pass
        for i in range(0, len(held), 2):
            held[i] = None
        gc.collect()
    worst = 0
    t = 0
    for k in range(n):
        t += 60
        st.append_fix(t, walk(k, t))
        if k % 360 == 0:
            st.append_event(R.EV_STATUS, t, b"ok")
        if len(st.segs) > worst:
            worst = len(st.segs)
    st.flush()
    print("thinned", st.thinned)
    print("merge_nomem", st.counts.get("merge_nomem", 0))
    print("full", st.counts.get("full", 0))
    print("max_segments_seen", worst)
    print("held", 1 if worst <= budget and not st.counts.get("merge_nomem") else 0)


if __name__ == "__main__":
    main()
