"""`opentag replay` memory: peak RSS against capture size, streamed (now) and read whole (the
former way: the file read and split in memory, every verdict kept), side by side in one run.
A synthetic capture is the gpsd corpus concatenated to SIZE_MB (default 200).
Run: .venv/bin/python bench/bench_replay.py [--mb 200]"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("OPENTAG_CORPUS", ROOT.parent / "shared" / "corpus" / "gpsd"))

# Each runs in a fresh interpreter; argv[1] is the capture.
IDLE = "import taghost.replaycli, taghost.cli"  # the interpreter and the modules: the floor
STREAMED = (
    "import sys; from taghost import cli\n"
    "sys.stdout = open('/dev/null', 'w')\n"
    "sys.exit(cli.main(['replay', sys.argv[1], '--floor', '2010-01-01', '--json']))"
)
STREAMED_QUIET = (  # the same stream, verdicts dropped: the like-for-like speed with WHOLE
    "import sys; from taghost import replay as rp\n"
    "t = rp.Totals()\n"
    "with open(sys.argv[1], 'rb') as fh:\n"
    "    for v in rp.replay(rp.receiver_bytes(fh), t, rp.parse_floor('2010-01-01')): pass\n"
)
WHOLE = (  # what replay did before: read_bytes, split into lines, keep every verdict
    "import sys; from pathlib import Path; from taghost import replay as rp\n"
    "data = Path(sys.argv[1]).read_bytes()\n"
    "data = b''.join(ln for ln in data.splitlines(keepends=True) if not ln.startswith(b'#'))\n"
    "t = rp.Totals()\n"
    "kept = list(rp.replay([data], t, rp.parse_floor('2010-01-01')))\n"
)


def make_capture(path: Path, mb: int) -> int:
    corpus = b"".join(p.read_bytes() for p in sorted(CORPUS.glob("*.log")))
    with path.open("wb") as fh:
        while fh.tell() < mb << 20:
            fh.write(corpus)
        return fh.tell()


def peak_rss(code: str, capture: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one child interpreter."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: run and report nothing but its exit status
        os.execv(sys.executable, [sys.executable, "-c", code, str(capture)])
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed: {code[:60]!r}")
    return ru.ru_maxrss / 1024, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=200, help="size of the big capture")
    ap.add_argument("--small-mb", type=int, default=20, help="size the whole-file way reads")
    a = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with tempfile.TemporaryDirectory() as d:
        small, big = Path(d) / "small.log", Path(d) / "big.log"
        ns, nb = make_capture(small, a.small_mb), make_capture(big, a.mb)
        idle, _ = peak_rss(IDLE, small)
        print(f"synthetic captures from {CORPUS}: {ns >> 20} MB and {nb >> 20} MB")
        print(f"{'run':42} {'peak RSS MB':>12} {'above idle':>11} {'s':>7} {'MB/s':>6}")
        print(f"{'interpreter + modules, idle (floor)':42} {idle:12.1f} {0:11.1f}")
        rows = [
            ("streamed (opentag replay --json), " + f"{ns >> 20} MB", STREAMED, small, ns),
            ("read whole (before), " + f"{ns >> 20} MB", WHOLE, small, ns),
            ("streamed, no output, " + f"{ns >> 20} MB", STREAMED_QUIET, small, ns),
            ("streamed (opentag replay --json), " + f"{nb >> 20} MB", STREAMED, big, nb),
        ]
        res = {}
        for name, code, cap, n in rows:
            rss, s = peak_rss(code, cap)
            res[name] = rss - idle
            print(f"{name:42} {rss:12.1f} {rss - idle:11.1f} {s:7.1f} {n / s / 2**20:6.2f}")
        s_small, whole, _, s_big = res.values()
        per_mb = whole / (ns >> 20)
        print(
            f"\nread whole: {per_mb:.1f} MB of RSS per MB of capture, so {per_mb * (nb >> 20):.0f}"
            f" MB projected for {nb >> 20} MB; streamed: {s_big:.1f} MB above idle at "
            f"{nb >> 20} MB vs {s_small:.1f} MB at {ns >> 20} MB (bounded)"
        )


if __name__ == "__main__":
    main()
