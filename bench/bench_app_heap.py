"""What the core app costs in MicroPython's heap, and what fits a board without PSRAM.

1. Import heap of the core app's modules (tagcore.app.*) and of the cores it drives, compiled
   -O3 as deployed: .mpy files on the filesystem (bytecode copied into the heap) against the
   same files in a ROMFS image (bytecode runs in place; on the device the image is flash).
2. The smallest heap (KB, in steps) at which a scenario's MicroPython tag runs with the same
   event stream as CPython's, both ways: zone_entry (zones), beacon_indoor (zones + proximity).
   A no-PSRAM board gives MicroPython 96 KB (boards/*.json, mcu.micropython_heap_kb).
Usage: python bench/bench_app_heap.py [--step KB] [--skip-scenarios]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from taghost import build
from tagsim import engine, hooks, runner, runtime, scenario

MODULES = (
    "tagcore.store.log",
    "tagcore.gnss.nmea",
    "tagcore.gnss.fixfilter",
    "tagcore.app",
    "tagcore.app.app",
    "tagcore.app.config",
    "tagcore.app.guard",
    "tagcore.zones.monitor",
    "tagcore.proximity.idtable",
    "tagcore.proximity.monitor",
)

PROBE = """
import gc, sys
ROM = %r
if ROM:
    import vfs
    img = bytearray(open(ROM, "rb").read())
    vfs.mount(vfs.VfsRom(img), "/rom")
    sys.path.insert(0, "/rom")
gc.collect()
b = gc.mem_alloc()
for n in %r:
    __import__(n)
    gc.collect()
    a = gc.mem_alloc()
    print(n, a - b)
    b = a
"""


def import_costs() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fw = Path(tmp) / "fw"
        build.build(fw, march="x64", src=runtime.FIRMWARE, opt=3)
        rom = Path(tmp) / "core.romfs"
        rom.write_bytes(build.romfs_image(fw))
        res = {}
        for label, path in (("files", ""), ("romfs", str(rom))):
            code = PROBE % (path, MODULES)
            p = subprocess.run(
                [runtime.micropython_binary(), "-X", "heapsize=4000000", "-c", code],
                capture_output=True,
                text=True,
                env={"MICROPYPATH": str(fw)},
                check=False,
            )
            if p.returncode:
                sys.exit(p.stderr)
            res[label] = dict((ln.split()[0], int(ln.split()[1])) for ln in p.stdout.splitlines())
        print(
            f"import heap (bytes; each after the ones above it), ROMFS image {rom.stat().st_size} B"
        )
        print(f"  {'module':22} {'.mpy files':>10} {'ROMFS':>8}")
        for m in MODULES:
            print(f"  {m:22} {res['files'][m]:10} {res['romfs'][m]:8}")
        app = ("tagcore.app", "tagcore.app.app")
        f, r = (sum(res[k][m] for m in app) for k in ("files", "romfs"))
        print(f"  the app (package + app.py, always loaded): {f} B as files, {r} B from ROMFS")


def smallest_heap(name: str, romfs: bool, step: int) -> int | None:
    sc = scenario.load(runner.SCENARIOS / f"{name}.toml")
    blob = hooks.zone_blob(sc) if sc.zones else None
    table = hooks.id_table_blob(sc) if sc.beacon is not None else None
    want = engine.run(
        sc, tag=runtime.make("cpython", zone_blob=blob, proximity=hooks.proximity(sc))
    )
    for kb in range(64, 161, step):
        tag = runtime.MicroPythonTag(heap=kb * 1024, id_table=table, zone_blob=blob, romfs=romfs)
        try:
            got = engine.run(sc, tag=tag)
        except RuntimeError:
            continue
        if got.log.out_of_memory is None and got.log.tag_lines == want.log.tag_lines:
            return kb
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", type=int, default=4)
    ap.add_argument("--skip-scenarios", action="store_true")
    args = ap.parse_args()
    import_costs()
    if args.skip_scenarios:
        return
    print(
        f"\nsmallest heap with the CPython stream (KB, {args.step} KB steps; a no-PSRAM board: 96)"
    )
    for name in ("zone_entry", "beacon_indoor"):
        a, b = smallest_heap(name, False, args.step), smallest_heap(name, True, args.step)
        print(f"  {name:14} .mpy files: {a} KB   ROMFS: {b} KB")


if __name__ == "__main__":
    main()
