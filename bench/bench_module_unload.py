"""What unloading a room of modules gives back in MicroPython (issue 12 section 1): import
the uplink's modules (tagcore.uplink.client and what it imports, and tagdevice.uplink_http's
own code), build the client's buffers, then drop everything (del from sys.modules, the
package attributes, gc.collect) and import it all again, several times.

Prints gc.mem_alloc() after each step and the qstr pool figures (micropython.qstr_info): the
module objects and the bytecode of .mpy files come back, the interned names never do, so an
unload/reload cycle costs nothing more after the first, but the names stay.
Both deploys: .mpy files (bytecode copied to the heap) and a ROMFS image of tagcore (the
bytecode stays in flash: only the module objects come and go).
Usage: python bench/bench_module_unload.py [--cycles N]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from devicekit import build_firmware  # noqa: E402
from micropython_runner import run_micropython  # noqa: E402
from taghost import build  # noqa: E402

ROMFS = """
import sys, vfs
with open(sys.argv[1], "rb") as f:
    img = bytearray(f.read())
vfs.mount(vfs.VfsRom(img), "/rom")
sys.path.insert(0, "/rom")
"""
DRIVER = """
import gc, sys, micropython
ROOMS = ("tagcore.uplink.", "tagcore.mac")
def mem(what):
    gc.collect()
    print("MEM", what, gc.mem_alloc())
def unload():
    for name in list(sys.modules):
        if name.startswith(ROOMS):
            del sys.modules[name]
            pkg, _, attr = name.rpartition(".")
            p = sys.modules.get(pkg)
            if p is not None and attr in dir(p):
                delattr(p, attr)
import tagcore.compat, tagcore.store.record, tagcore.store.log, tagcore.uplink
from tagkit.memfs import MemFs
st = tagcore.store.log.Store(MemFs(), 0)
mem("base")
micropython.qstr_info()
for k in range(CYCLES):
    from tagcore.uplink.client import UplinkClient
    mem("imported %d" % k)
    c = UplinkClient(st, b"01234567", b"k" * 32)
    mem("client %d" % k)
    c = UplinkClient = None
    unload()
    mem("unloaded %d" % k)
    micropython.qstr_info()
"""

QSTR = re.compile(
    r"^qstr pool: n_pool=\d+, n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)$", re.M
)


def run(cycles: int, image: Path | None) -> None:
    code = DRIVER.replace("CYCLES", str(cycles))
    if image is not None:
        code = ROMFS + code
    args = () if image is None else (str(image),)
    out = run_micropython(code=code, args=args, heap=2_000_000, opt=3)
    mems = re.findall(r"^MEM (.+) (\d+)$", out, re.M)
    q = [tuple(map(int, m)) for m in QSTR.findall(out)]
    base = int(mems[0][1])
    how = ".mpy files" if image is None else "ROMFS image"
    print(f"the uplink's modules (tagcore.uplink.*, tagcore.mac) loaded, used, unloaded; {how}, "
          "64-bit unix port, bytes over the store's baseline:")  # fmt: skip
    for what, n in mems:
        print(f"  {what:14} {int(n) - base:8}")
    print("  interned names (qstrs) after each cycle (they never go):")
    for k, (n, s, t) in enumerate(q):
        when = "before" if k == 0 else f"cycle {k}"
        print(f"    {when:8} {n:5} names, {t:6} B pools and names ({s} B of name bytes)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=3)
    a = ap.parse_args()
    run(a.cycles, None)
    with tempfile.TemporaryDirectory() as d:
        fw = build_firmware(Path(d) / "fw")
        image = Path(d) / "core.romfs"
        image.write_bytes(build.romfs_image(fw, ("tagcore",)))
        run(a.cycles, image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
