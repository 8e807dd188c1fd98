"""UBX framer overhead: the NMEA reader alone against the framer in front of it (as the device
pump runs it), on the gpsd corpus in 256-byte UART chunks, under MicroPython (.mpy) and CPython
in the same run; and with an ACK spliced in every 512 bytes. Ratios to the reader alone are the
figures to read (the machine is loaded; absolute numbers are re-measured later)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from micropython_runner import FIRMWARE, MPY_TESTS, micropython_binary, mpy_env  # noqa: E402

DRIVER = ROOT / "bench" / "gnss_framer_stream.py"


def run(runtime: str, mode: str, files: list[str], chunk: int) -> dict[str, int]:
    cwd = None
    if runtime == "micropython":
        cmd = [micropython_binary(), "-X", "heapsize=65536", str(DRIVER), mode, str(chunk)]
        env, cwd = mpy_env()
    else:
        cmd = [sys.executable, str(DRIVER), mode, str(chunk)]
        env = {"PYTHONPATH": f"{FIRMWARE}:{MPY_TESTS}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [*cmd, *files], capture_output=True, text=True, env=env, cwd=cwd, check=True
    ).stdout
    return {k: int(v) for k, v in (ln.split() for ln in out.strip().splitlines())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "gpsd"))
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    a = ap.parse_args()
    files = sorted(str(p) for p in Path(a.corpus).glob("*.log"))
    print(f"UBX framer before the NMEA reader: {len(files)} captures, {a.chunk}-byte chunks,")
    print(
        f"best of {a.repeat}, the three streams interleaved so the machine's load hits each alike"
    )
    print(
        f"{'runtime':12} {'stream':24} {'us/KB':>8} {'x reader':>8} {'B alloc/KB':>10}"
        f" {'frames':>7}"
    )
    modes = (
        ("reader", "reader alone"),
        ("framer", "framer -> reader"),
        ("framer_ubx", "same + ACK every 512 B"),
    )
    for rt in ("micropython", "cpython"):
        best: dict[str, dict[str, int]] = {}
        for _ in range(a.repeat):
            for mode, _label in modes:
                r = run(rt, mode, files, a.chunk)
                if mode not in best or r["us"] < best[mode]["us"]:
                    best[mode] = r
        base = best["reader"]["us"] * 1024 / best["reader"]["bytes"]
        for mode, label in modes:
            r = best[mode]
            per_kb = r["us"] * 1024 / r["bytes"]
            alloc = f"{r['alloc'] * 1024 / r['bytes']:.0f}" if r["alloc"] else "-"
            print(
                f"{rt:12} {label:24} {per_kb:8.0f} {per_kb / base:8.2f} {alloc:>10}"
                f" {r['frames']:>7}"
            )


if __name__ == "__main__":
    main()
