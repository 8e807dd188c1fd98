"""The smallest MicroPython heap at which the WHOLE tag firmware (boot.py, main.py, tagdevice,
tagcore; `opentag build` output, .mpy files on the board's littlefs, imported as deployed)
runs a day of wear on the simulated board in the unix port (tests/mpy/device_board.py): a
walk with a fix a minute, uploads every 15 min to the real `opentag server` on loopback.

"Runs" means: no MemoryError anywhere (no crash, no safe mode), the same fixes stored as at a
2 MB heap, and every one of them at the server. Two tags: a plain tracker (deep sleep between
fixes) and a tag with a zone blob (light sleep; zones + store + uplink + shell).

The heap MicroPython is given includes the board itself (the fakes, the world, the littlefs
driver), which a real board does not carry: HEAP_WORLD (gc.mem_alloc() before the first
boot) is printed, and `firmware` = smallest heap - HEAP_WORLD is the tag's own figure.
Target (issue 12): the whole tag in <= 80 KB on the 64-bit port; a no-PSRAM ESP32 gives
56 KiB at start, up to ~110 KB (shared/reference/boards.md).
Usage: python bench/bench_device_heap.py [--hours H] [--step KB]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

import devicekit as K  # noqa: E402


def day(tmp: Path, fw: Path, zones: bool, heap: int, hours: int) -> tuple[bool, K.Run, int]:
    tmp.mkdir(parents=True, exist_ok=True)
    srv = K.RealServer(tmp)
    try:
        cfg = K.compile_config(tmp, fix_interval_s=60, upload_interval_s=900)
        z = K.compile_zones(tmp) if zones else None
        prov = K.write_prov(tmp / "prov", srv.port, config=cfg, zones=z)
        run = K.run_board(tmp, fw, prov, duration_s=hours * 3600, heap=heap, check=False)
        at_server = len(srv.fixes())
    finally:
        srv.stop()
    ok = (
        "END " in run.out
        and not any("crashed" in m.group(4) for m in run.logs("main"))
        and {b.group(5) for b in run.banners()} == {"normal"}
    )
    return ok, run, at_server


def smallest(fw: Path, zones: bool, hours: int, step_kb: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        t = time.time()
        ok, ref, ref_srv = day(Path(d) / "ref", fw, zones, 2_000_000, hours)
        ref_fixes = len(ref.logs("fix"))
        secs = time.time() - t
    assert ok, ref.out[-3000:]
    world = ref.value("HEAP_WORLD")

    def fits(kb: int) -> bool:
        with tempfile.TemporaryDirectory() as d:
            ok, run, srv = day(Path(d) / "t", fw, zones, kb * 1024, hours)
        return ok and len(run.logs("fix")) == ref_fixes and srv == ref_srv

    lo, hi = 32 // step_kb, 160 // step_kb  # lo does not fit, hi does (checked)
    if not fits(hi * step_kb):
        print(f"  does not fit in {hi * step_kb} KB")
        return
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid * step_kb):
            hi = mid
        else:
            lo = mid
    kb = hi * step_kb
    name = "zones + store + uplink + shell" if zones else "tracker (store + uplink + shell)"
    print(f"  {name}: {hours} h, {ref_fixes} fixes, {ref_srv} at the server, "
          f"{ref.value('BOOTS')} boots, {ref.value('DEEPSLEEPS')} deep sleeps "
          f"({secs:.0f} s a run)")  # fmt: skip
    fw_b = kb * 1024 - world
    print(f"  smallest heap: {kb} KB (step {step_kb} KB); board overhead HEAP_WORLD "
          f"{world} B; firmware {fw_b} B = {fw_b / 1024:.1f} KB")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--step", type=int, default=4)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        fw = K.build_firmware(Path(d) / "fw")
        print("whole firmware, .mpy files on littlefs, 64-bit unix port:")
        for zones in (False, True):
            smallest(fw, zones, a.hours, a.step)
    return 0


if __name__ == "__main__":
    sys.exit(main())
