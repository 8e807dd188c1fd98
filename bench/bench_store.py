"""Flash store benchmark: bytes per stored fix, flash bytes programmed per fix as littlefs sees it
(counted on the block device), projected partition life, days of fixes before thinning, and
append/recovery cost, all measured inside MicroPython on a 2 MB littlefs image of 4 KB blocks.
Run: .venv/bin/python bench/bench_store.py"""

from __future__ import annotations

import sys
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


if __name__ == "__main__":
    main()
