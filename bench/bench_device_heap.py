"""The smallest MicroPython heap at which the WHOLE tag firmware (boot.py, main.py, tagdevice,
tagcore; `opentag build` output, .mpy files on the board's littlefs, imported as deployed)
runs a day of wear on the simulated board in the unix port (tests/mpy/device_board.py): a
walk with a fix a minute, uploads every 15 min to the real `opentag server` on loopback.

"Runs" means: no MemoryError anywhere (no crash, no safe mode), the same fixes stored as at a
2 MB heap, and every one of them at the server. Two tags: a plain tracker (deep sleep between
fixes, --tracker; slow: in-process reboots) and a tag with a zone blob (one boot, light
sleep; zones + store + uplink + shell). Each as .mpy files on littlefs and as a ROMFS image
(MicroPython >= 1.25: bytecode runs from flash; here the image sits in RAM and is counted
apart).

The heap MicroPython is given includes the board itself (the fakes, the world, the littlefs
driver), which a real board does not carry: HEAP_WORLD (gc.mem_alloc() before the first
boot) is printed, and `firmware` = smallest heap - HEAP_WORLD is the tag's own figure.
Target (issue 12): the whole tag in <= 80 KB on the 64-bit port; a no-PSRAM ESP32 gives
56 KiB at start, up to ~110 KB (shared/reference/boards.md).
Usage: python bench/bench_device_heap.py [--hours H] [--step KB] [--tracker]
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
from taghost import build  # noqa: E402


def day(
    tmp: Path, fw: Path, zones: bool, heap: int, hours: int, rom: Path | None = None
) -> tuple[bool, K.Run, int]:
    tmp.mkdir(parents=True, exist_ok=True)
    extra = {} if rom is None else {"romfs": str(rom)}
    srv = K.RealServer(tmp)
    try:
        cfg = K.compile_config(tmp, fix_interval_s=60, upload_interval_s=900)
        z = K.compile_zones(tmp) if zones else None
        prov = K.write_prov(tmp / "prov", srv.port, config=cfg, zones=z)
        run = K.run_board(
            tmp, fw, prov, duration_s=hours * 3600, heap=heap, check=False, max_boots=20, **extra
        )
        at_server = len(srv.fixes())
    finally:
        srv.stop()
    ok = (
        "END " in run.out
        and not any("crashed" in m.group(4) for m in run.logs("main"))
        and {b.group(5) for b in run.banners()} == {"normal"}
        and "MAX_BOOTS" not in run.out
    )
    return ok, run, at_server


def smallest(
    fw: Path, zones: bool, hours: int, step_kb: int, rom: Path | None, lo_kb: int, hi_kb: int
) -> None:
    with tempfile.TemporaryDirectory() as d:
        t = time.time()
        ok, ref, ref_srv = day(Path(d) / "ref", fw, zones, 2_000_000, hours, rom)
        ref_fixes = len(ref.logs("fix"))
        secs = time.time() - t
    assert ok, ref.out[-3000:]
    world = ref.value("HEAP_WORLD")
    image = ref.value("HEAP_ROM") if rom is not None else 0

    def fits(kb: int) -> bool:
        with tempfile.TemporaryDirectory() as d:
            ok, run, srv = day(Path(d) / "t", fw, zones, kb * 1024, hours, rom)
        return ok and len(run.logs("fix")) == ref_fixes and srv == ref_srv

    # A scan from the top down, not a bisection: fragmentation makes "fits" not monotonic in
    # the heap size near the edge (a run can pass at one size and die at a larger one).
    name = "zones + store + uplink + shell" if zones else "tracker (store + uplink + shell)"
    how = "ROMFS image" if rom is not None else ".mpy files on littlefs"
    print(f"  {name}, {how}: {hours} h, {ref_fixes} fixes, {ref_srv} at the server, "
          f"{ref.value('BOOTS')} boots ({secs:.0f} s a run at 2 MB)")  # fmt: skip
    results = []
    for kb in range(hi_kb, lo_kb - 1, -step_kb):
        results.append((kb, fits(kb)))
    print("    " + " ".join(f"{kb}:{'ok' if r else 'FAIL'}" for kb, r in results))
    smallest = None
    for kb, r in results:
        if not r:
            break
        smallest = kb
    if smallest is None:
        print(f"    does not fit in {hi_kb} KB")
        return
    fw_b = smallest * 1024 - world  # HEAP_WORLD includes the image, when there is one
    print(f"    smallest heap with every larger one passing: {smallest} KB = board "
          f"{world - image} B + image in RAM {image} B + firmware {fw_b} B "
          f"({fw_b / 1024:.1f} KB)")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--step", type=int, default=32)
    ap.add_argument("--tracker", action="store_true", help="also the plain tracker (slow)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        fw = K.build_firmware(Path(d) / "fw")
        rom = Path(d) / "fw.romfs"
        rom.write_bytes(build.romfs_image(fw, packages=("tagcore", "tagdevice")))
        print("whole firmware (-O3, as `opentag build` writes it), 64-bit unix port:")
        for zones in (True, False) if a.tracker else (True,):
            smallest(fw, zones, a.hours, a.step, None, 192, 480)
            smallest(fw, zones, a.hours, a.step, rom, 192, 480)
    return 0


if __name__ == "__main__":
    sys.exit(main())
