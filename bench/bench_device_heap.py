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
Before the scan it prints where the heap goes (the zone tag at 2 MB, first boot): each room's
modules as imported (own heap, the children they import apart; one run with a collection
around every import), the runtime objects one by one (tests/mpy/device_heap_parts.py), and
what the boot holds beyond both (the shell's objects, the drivers, qstr pools, the fakes' own
buffers that stand in for the hardware's: UART ring, RTC memory, sockets).
Usage: python bench/bench_device_heap.py [--hours H] [--step KB] [--tracker] [--breakdown-only]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

import devicekit as K  # noqa: E402
from micropython_runner import run_micropython  # noqa: E402
from taghost import build  # noqa: E402

IMPORT = re.compile(r"^IMPORT (\S+) .* (\d+) (\d+)$", re.M)
MEM = re.compile(r"^MEM \d+ (\d+) \d+$", re.M)
QSTR = re.compile(
    r"^qstr pool: n_pool=\d+, n_qstr=(\d+), n_str_data_bytes=(\d+), "
    r"n_total_bytes=(\d+)$",
    re.M,
)
UNLOADED = ("tagdevice.prov", "tagcore.app.config")  # boot-only: dropped before the loop


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


def room(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "tagcore" and len(parts) > 2:
        return "tagcore." + parts[1]
    if parts[0] in ("tagcore", "tagdevice"):
        return parts[0] if parts[0] == "tagdevice" or len(parts) == 1 else "tagcore (top)"
    return "other"


def imports(fw: Path, rom: Path | None) -> tuple[dict[str, int], int, int, tuple[int, ...]]:
    """({room: own bytes} of the modules the zone tag keeps, bytes of the boot-only modules,
    heap held after boot less the board's, the firmware's qstrs: (count, pool bytes, name
    bytes)), from one profiled hour at 2 MB."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        extra: dict[str, object] = {"profile": 1}
        if rom is not None:
            extra["romfs"] = str(rom)
        srv = K.RealServer(tmp)
        try:
            cfg = K.compile_config(tmp, fix_interval_s=60, upload_interval_s=900)
            prov = K.write_prov(tmp / "prov", srv.port, config=cfg, zones=K.compile_zones(tmp))
            run = K.run_board(tmp, fw, prov, duration_s=3600, **extra)  # type: ignore[arg-type]
        finally:
            srv.stop()
    rooms: dict[str, int] = {}
    boot_only = 0
    for name, own, _ in IMPORT.findall(run.out):
        if name in UNLOADED:
            boot_only += int(own)
        else:
            r = room(name)
            rooms[r] = rooms.get(r, 0) + int(own)
    m = MEM.search(run.out)
    assert m, run.out[-2000:]
    (n0, s0, t0), (n1, s1, t1) = [tuple(map(int, q)) for q in QSTR.findall(run.out)[:2]]
    qstrs = (n1 - n0, (t1 - s1) - (t0 - s0), s1 - s0)
    return rooms, boot_only, int(m.group(1)) - run.value("HEAP_WORLD"), qstrs


def parts() -> list[tuple[str, int, int]]:
    """(part, kept bytes, allocated bytes) of the zone tag's runtime objects."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        K.compile_config(tmp, fix_interval_s=60, upload_interval_s=900)
        K.compile_zones(tmp)
        (tmp / "log").mkdir()
        args = (str(tmp / "log"), str(tmp / "zones.bin"), str(tmp / "config.bin"))
        out = run_micropython(module="device_heap_parts", args=args, heap=2_000_000,
                              path=K.FAKES, opt=3)  # fmt: skip
    return [(n, int(k), int(a)) for n, k, a in re.findall(r"^PART (\S+) (\d+) (\d+)$", out, re.M)]


def breakdown(fw: Path, rom: Path) -> None:
    """Where the zone tag's heap goes after boot, .mpy files on littlefs and ROMFS side by side."""
    lfs_rooms, lfs_boot, lfs_held, q = imports(fw, None)
    rom_rooms, rom_boot, rom_held, _ = imports(fw, rom)
    objs = parts()
    print("where the heap goes after boot (zone tag, bytes, 64-bit port):")
    print(f"  {'part':34} {'.mpy on littlefs':>16} {'ROMFS':>8}")
    for r in sorted(set(lfs_rooms) | set(rom_rooms)):
        print(f"  {'code+globals ' + r:34} {lfs_rooms.get(r, 0):16} {rom_rooms.get(r, 0):8}")
    code_l, code_r = sum(lfs_rooms.values()), sum(rom_rooms.values())
    print(f"  {'  = modules kept':34} {code_l:16} {code_r:8}")
    print(f"  {'  (boot-only modules, unloaded)':34} {lfs_boot:16} {rom_boot:8}")
    print(f"  {'  of the above: qstr pools':34} {q[1]:16} {q[1]:8}   ({q[0]} names interned)")
    print(f"  {'  of the above: qstr name bytes':34} {q[2]:16} {'(flash)':>8}   (ROMFS: in place)")
    kept = 0
    for name, k, a in objs:
        if name == "uplink_batch":
            print(f"  {'one upload batch (transient)':34} {'allocates ' + str(a):>25}")
            continue
        if name != "config":  # the config record is in "rest": its codec is unloaded
            kept += k
        print(f"  {'object ' + name:34} {k:16} {k:8}   (allocates {a} while built)")
    print(f"  {'rest (shell, drivers, fakes)':34} {lfs_held - code_l - kept:16} "
          f"{rom_held - code_r - kept:8}")  # fmt: skip
    print(f"  {'= held after boot':34} {lfs_held:16} {rom_held:8}")


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
    ap.add_argument("--breakdown-only", action="store_true", help="skip the smallest-heap scan")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        fw = K.build_firmware(Path(d) / "fw")
        rom = Path(d) / "fw.romfs"
        rom.write_bytes(build.romfs_image(fw, build.ROMFS_PACKAGES))
        breakdown(fw, rom)
        if a.breakdown_only:
            return 0
        print("whole firmware (-O3, as `opentag build` writes it), 64-bit unix port:")
        for zones in (True, False) if a.tracker else (True,):
            smallest(fw, zones, a.hours, a.step, None, 192, 480)
            smallest(fw, zones, a.hours, a.step, rom, 192, 480)
    return 0


if __name__ == "__main__":
    sys.exit(main())
