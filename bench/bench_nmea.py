"""NMEA front-end benchmark: sentences per second and bytes allocated per sentence, for the core
under MicroPython (.mpy, ESP32-sized heap) and CPython, with pynmea2 as the reference column in
the same run. Input is streamed from the capture files in UART-sized chunks, as on the device.
Also finds the smallest MicroPython heap in which one reader streams the whole corpus."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pynmea2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from corpus import own_floor  # noqa: E402
from micropython_runner import FIRMWARE, MPY_TESTS, micropython_binary, mpy_env  # noqa: E402

STREAM = ROOT / "bench" / "nmea_stream.py"


def parse_driver_output(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (ln.split() for ln in text.strip().splitlines())}


def run_core(runtime: str, files: list[str], chunk: int, heap: int) -> dict[str, int]:
    cwd = None
    if runtime == "micropython":
        cmd = [micropython_binary(), "-X", f"heapsize={heap}", str(STREAM), str(chunk), *files]
        env, cwd = mpy_env()
    else:
        cmd = [sys.executable, str(STREAM), str(chunk), *files]
        env = {"PYTHONPATH": f"{FIRMWARE}:{MPY_TESTS}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, check=True).stdout
    return parse_driver_output(out)


def run_pynmea2(files: list[str], chunk: int) -> dict[str, int]:
    """pynmea2 streaming the same files: parse every sentence and decode all of its fields."""
    sentences = 0
    t0 = time.perf_counter()
    for name in files:
        reader = pynmea2.NMEAStreamReader(errors="ignore")
        with open(name, "rb") as f:
            while data := f.read(chunk):
                for msg in reader.next(data.decode("ascii", "replace")):
                    sentences += 1
                    for attr in getattr(msg, "name_to_idx", {}):
                        getattr(msg, attr)
                    for prop in ("latitude", "longitude", "timestamp", "datestamp"):
                        try:
                            getattr(msg, prop, None)
                        except (ValueError, TypeError):
                            pass
    us = int((time.perf_counter() - t0) * 1e6)
    return {"sentences": sentences, "us": us}


def run_pynmea2_parse_only(files: list[str]) -> dict[str, int]:
    """pynmea2's fastest use: lines already split, parse only, no field decoded."""
    lines = []
    for name in files:
        for raw in Path(name).read_bytes().split(b"\n"):
            if raw.startswith(b"$"):
                lines.append(raw.rstrip(b"\r").decode("ascii", "replace"))
    sentences = 0
    t0 = time.perf_counter()
    for ln in lines:
        try:
            pynmea2.parse(ln, check=True)
            sentences += 1
        except (pynmea2.ParseError, pynmea2.ChecksumError, ValueError, AttributeError):
            pass
    return {"sentences": sentences, "us": int((time.perf_counter() - t0) * 1e6)}


def smallest_heap(paths: str, opt: int) -> float:
    """Smallest heap (KB, 0.25 KB steps) in which the core, as .mpy compiled with -O`opt`,
    streams the whole corpus with one reader (`paths`: "path floor" lines, as the differential
    test gives them)."""
    env, cwd = mpy_env(opt=opt)
    for q in range(24 * 4, 65 * 4):
        cmd = [micropython_binary(), "-X", f"heapsize={q * 256}", "-m", "nmea_replay"]
        proc = subprocess.run(
            [*cmd, "256", "one"],
            input=paths,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
        )
        if proc.returncode == 0:
            return q / 4
    return -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "gpsd"))
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    args = ap.parse_args()
    files = sorted(str(p) for p in Path(args.corpus).glob("*.log"))

    def best(fn):
        runs = [fn() for _ in range(args.repeat)]
        return min(runs, key=lambda r: r["us"])

    ref = best(lambda: run_pynmea2(files, args.chunk))
    fast = best(lambda: run_pynmea2_parse_only(files))
    cpy = best(lambda: run_core("cpython", files, args.chunk, 0))
    mpy = best(lambda: run_core("micropython", files, args.chunk, 64 * 1024))
    ref_rate = ref["sentences"] / ref["us"] * 1e6

    print(
        f"NMEA front end, {len(files)} gpsd captures, {args.chunk}-byte chunks, "
        f"best of {args.repeat}"
    )
    print(f"{'parser':34} {'sentences':>9} {'sent/s':>9} {'x pynmea2':>9} {'B alloc/sent':>12}")
    for name, r in (
        ("pynmea2 stream+decode (reference)", ref),
        ("pynmea2 parse only, pre-split", fast),
        ("tagcore (CPython)", cpy),
        ("tagcore (MicroPython .mpy, 64K)", mpy),
    ):
        rate = r["sentences"] / r["us"] * 1e6
        alloc = f"{r['alloc'] / r['sentences']:.0f}" if r.get("alloc") else "-"
        print(f"{name:34} {r['sentences']:9d} {rate:9.0f} {rate / ref_rate:9.2f} {alloc:>12}")
    # Each capture at a date floor that fits its own dates (-132, 1999, for the undated ones).
    floors = [own_floor(Path(f)) for f in files]
    paths = "".join(f"{f} {-132 if d is None else d}\n" for f, d in zip(files, floors, strict=True))
    for opt in (3, 0):
        print(
            f"smallest MicroPython heap for the whole corpus (one reader, .mpy -O{opt}): "
            f"{smallest_heap(paths, opt)} KB"
        )


if __name__ == "__main__":
    main()
