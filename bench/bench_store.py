"""Flash store benchmark: bytes per stored fix, flash bytes programmed per fix as littlefs sees it
(counted on the block device), projected partition life, days of fixes before thinning, and
append/recovery cost, all measured inside MicroPython on a 2 MB littlefs image of 4 KB blocks; and
how long a partition full of alert segments keeps storing (compaction) and what it gives up.
Run: .venv/bin/python bench/bench_store.py"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from micropython_runner import MPY_TESTS, run_micropython  # noqa: E402

PARTITION = 2 * 1024 * 1024
ERASE_CYCLES = 100_000
GGA = b"$GPGGA,123519.00,4807.038123,N,01131.000456,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"


def measure(interval_s: int) -> dict[str, float]:
    out = run_micropython(
        script=MPY_TESTS / "store_bench.py",
        args=(str(PARTITION), str(interval_s)),
        heap=8_000_000,
        check=True,
    )
    return {k: float(v) for k, v in (ln.split() for ln in out.strip().splitlines())}


def holds(heap: int, fixes: int, pieces: bool = False) -> bool:
    """Whether the store with 4 KB segments and an 8-segment budget holds it over `fixes`
    1/min fixes (thinning again and again) inside a MicroPython heap of `heap` bytes. pieces:
    the rest of the heap left in 2 KB pieces, as the whole tag leaves it, and the merge
    buffers reserved at start-up as the device shell does (tests/mpy/store_heap.py)."""
    flags = ("1", "1") if pieces else ()
    with tempfile.TemporaryDirectory() as d:
        out = run_micropython(
            module="store_heap", args=(d, "8", str(fixes), *flags), heap=heap, check=False
        )
    m = re.search(r"^held (\d)", out, re.M)
    return bool(m and m.group(1) == "1")


def smallest_heap(
    fixes: int, lo: int = 16 * 1024, hi: int = 512 * 1024, pieces: bool = False
) -> int:
    # bisection to 2 KB (holding is monotonic in the heap, up to fragmentation luck)
    while hi - lo > 2048:
        mid = (lo + hi) // 2
        if holds(mid, fixes, pieces):
            hi = mid
        else:
            lo = mid
    return hi


def heap_figures() -> None:
    # Reference in the same run: the heap at which the same driver runs 100 fixes (no merge),
    # i.e. the interpreter, the modules and a Store with its buffers.
    base = smallest_heap(100)
    need = smallest_heap(9000)
    print("-- heap (MicroPython unix port, 64-bit; 4 KB segments, budget 8 segments)")
    print(f"  smallest heap, store without merges   {base / 1024:.0f} KB")
    print(f"  smallest heap holding the budget      {need / 1024:.0f} KB (9,000 fixes at 1/min)")
    print(f"  merges need on top                    {(need - base) / 1024:.0f} KB")
    tag = smallest_heap(9000, pieces=True)
    print(f"  in a heap left in pieces (as the tag's, merge buffers reserved at boot): holds "
          f"from {tag / 1024:.0f} KB; without the reserve it never merges there")  # fmt: skip


FULL_PARTITION = 128 * 1024
ALERT_MIN = 60
FULL_DAYS = 400


def full_figures() -> None:
    """A partition in which every segment holds an alert (one an hour, 1 fix/min, a status
    event every 30 min, no acknowledgement): how long it keeps storing with compaction and
    without (the store before it), and what the partition holds at the end."""
    print(
        f"-- a full partition of alert segments ({FULL_PARTITION // 1024} KB littlefs, 4 KB "
        f"blocks; 1 fix/min, status every 30 min, an alert every {ALERT_MIN} min, no acks)"
    )
    for compact in ("0", "1"):
        out = run_micropython(
            script=MPY_TESTS / "store_full_bench.py",
            args=(str(FULL_PARTITION), str(ALERT_MIN), str(FULL_DAYS), compact),
            heap=8_000_000,
            check=True,
        )
        m = {k: float(v) for k, v in (ln.split() for ln in out.strip().splitlines())}
        name = "with compaction   " if compact == "1" else "without (before)  "
        stop = "an alert refused" if m["alert_refused"] else f"{FULL_DAYS} days, still storing"
        print(
            f"  {name} full after {m['days_to_full']:.1f} days; stored until day "
            f"{m['days_stored']:.1f} ({stop})"
        )
        print(
            f"  {'':18} alerts {m['alerts']:.0f} stored, {m['kept_alerts']:.0f} kept; "
            f"fixes {m['fixes']:.0f} appended, {m['kept_fixes']:.0f} kept; status "
            f"{m['status']:.0f}, {m['kept_status']:.0f} kept; {m['dropped']:.0f} records given "
            f"up in {m['compactions']:.0f} compactions (EV_DROPPED)"
        )


def main() -> None:
    blocks = PARTITION // 4096
    print(f"partition {PARTITION} B = {blocks} blocks of 4 KB; {ERASE_CYCLES} erase cycles/block")
    print(f"raw GGA sentence: {len(GGA)} B")
    for interval in (60, 1):
        m = measure(interval)
        per_day = 86400 / interval
        # littlefs wear-levels dynamically across the partition: life = total erases / rate
        life_days = blocks * ERASE_CYCLES / (m["erases_per_fix"] * per_day)
        print(f"-- 1 fix every {interval} s (max_fixes 32, max_age 300 s)")
        print(f"  bytes per stored fix          {m['bytes_per_fix']:.2f}")
        print(f"  flash bytes programmed / fix  {m['prog_bytes_per_fix']:.1f}")
        print(f"  block erases / fix            {m['erases_per_fix']:.4f}")
        print(f"  projected partition life      {life_days / 365.25:.0f} years")
        print(f"  fixes before thinning         {m['fixes_before_thinning']:.0f}")
        print(f"  days before thinning          {m['days_before_thinning']:.1f}")
        print(f"  append (MicroPython, unix)    {m['append_us_per_fix']:.0f} us/fix")
        print(f"  recovery of the full log      {m['recovery_ms_full']:.0f} ms")
        print(f"  segments                      {m['segments']:.0f}")
    heap_figures()
    full_figures()


if __name__ == "__main__":
    main()
