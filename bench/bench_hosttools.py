"""How long the host tools take against the virtual board (taghost.vboard: the MicroPython unix
port behind a pty, its flash a littlefs image), and what a pull decodes.

Rows: `opentag deploy` (build -O3, copy, provision, SHA-256 of every file read back from the
board, reset, boot banner), `opentag pull` of the stand-in main.py's log (tests/vboard/main.py:
148 fixes) and of a 5,000-fix log written on the board by the real store, `opentag replay` of the
pull with --truth, `opentag report` of it. A pty is not a USB-serial bridge: a real board at
115200 baud moves ~11 KB/s, so the copy there takes longer (the row says how many bytes).
Usage: python bench/bench_hosttools.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from taghost import samplelog  # noqa: E402
from taghost.vboard import VirtualBoard  # noqa: E402
from vboardkit import firmware_tree, mpremote, opentag  # noqa: E402


def timed(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    r = opentag(*args, timeout=600)
    if r.returncode not in (0, 1):
        sys.exit(f"opentag {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return time.perf_counter() - t, r


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        fw = firmware_tree(d / "fw")
        samplelog.write_truth(d / "phone.gpx")
        with VirtualBoard(d / "flash.img") as vb:
            vb.wait_for(b">>> ")
            s, r = timed(
                "deploy",
                "--port",
                vb.port,
                "--board",
                "tbeam_v12_axp2101",
                "--firmware",
                str(fw),
                "--json",
            )
            doc = json.loads(r.stdout)
            print(f"deploy: {doc['files']} files in {s:.1f} s (verified, booted: {doc['ok']})")
            s, r = timed("pull", "--port", vb.port, "--out", str(d / "p1"), "--json")
            st = json.loads(r.stdout)["stats"]
            size = sum(p.stat().st_size for p in (d / "p1" / "log").iterdir())
            print(f"pull: {st['fixes']} fixes, {st['segments']} segments, {size} B in {s:.1f} s")
            code = (ROOT / "tests/vboard/write_log.py").read_text()
            code = code.replace("N_FIXES = 1000", "N_FIXES = 5000")
            mpremote(
                vb.port,
                "exec",
                "import os\nfor n in os.listdir('/log'):\n os.remove('/log/' + n)",
                timeout=120,
            )
            t = time.perf_counter()
            mpremote(vb.port, "exec", code, timeout=600)
            print(f"store on the board: 5000 fixes written in {time.perf_counter() - t:.1f} s")
            s, r = timed("pull", "--port", vb.port, "--out", str(d / "p2"), "--json")
            st = json.loads(r.stdout)["stats"]
            size = sum(p.stat().st_size for p in (d / "p2" / "log").iterdir())
            print(
                f"pull: {st['fixes']} fixes, {st['segments']} segments, {size} B in {s:.1f} s "
                f"({size / s / 1024:.1f} KB/s over the pty)"
            )
        s, r = timed("replay", str(d / "p1"), "--truth", str(d / "phone.gpx"), "--json")
        t = json.loads(r.stdout)["truth"]
        print(
            f"replay --truth of the 148-fix pull: {s:.1f} s; error median {t['median_m']} m, "
            f"p95 {t['p95_m']} m (the stand-in logs the fixes 6.0 m north of the truth)"
        )
        s, r = timed("report", str(d / "p2"), "--out", str(d / "r.html"))
        print(f"report of the 5,000-fix pull: {s:.1f} s, {(d / 'r.html').stat().st_size} B page")


if __name__ == "__main__":
    main()
