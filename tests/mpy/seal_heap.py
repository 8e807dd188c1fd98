# Heap driver (bench/bench_evidence.py runs it inside MicroPython at several heap sizes): the
# store with 4 KB segments on host files (the log takes no heap), with or without its sealer,
# at 1 fix/s (128-record epochs: the largest seals) or 1 fix/min, an alert every 500 fixes.
# Prints "ok 1" if every seal was written (no seal_nomem, no MemoryError).
# Usage: micropython -m seal_heap DIR SEALED(0|1) STEP_S FIXES
import gc
import sys

from seal_flash_walk import walk
from tagcore.store import record as R
from tagcore.store import seal as S
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs


def main():
    root = sys.argv[1]
    sealed = sys.argv[2] == "1"
    step = int(sys.argv[3])
    n = int(sys.argv[4])
    gc.collect()
    fs = OsFs(root)
    sealer = None
    if sealed:
        S.provision(S.FileSlot(fs), bytes(range(32)))
        sealer = S.Sealer(S.FileSlot(fs), b"\x07" * 8)
    try:
        st = Store(fs, 0, max_segments=1000, sealer=sealer)
        t = 0
        for k in range(n):
            t += step
            st.append_fix(t, walk(k, t))
            if k % 500 == 250:
                st.append_event(R.EV_ZONE, t, b"\x05\x01")
        st.flush()
    except MemoryError:
        print("ok 0")
        return
    print("seals", st.counts.get("seals", 0))
    print("ok", 0 if st.counts.get("seal_nomem") else 1)


if __name__ == "__main__":
    main()
