"""Every command block of the README runs: `make demo` and `make test` (the latter as a dry run:
it is the suite this test is part of), the flash-a-T-Beam sequence against a virtual board that
`opentag vboard` starts, exactly as the README says; and the README keeps its figures' home."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

from taghost import samplelog
from taghost.vboard import gnss_schedule
from vboardkit import ROOT, firmware_tree

README = (ROOT / "README.md").read_text()
BIN = str(Path(sys.executable).parent)


def sh_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def test_the_readme_has_its_two_blocks() -> None:
    blocks = sh_blocks()
    assert len(blocks) == 2, "a new ```sh block in the README needs a test here"
    assert blocks[0].split("\n")[0].startswith("make demo")
    assert "opentag deploy" in blocks[1]


# The board's clock runs this many times wall time: the sample walk's 796 s pass in 8 s, within
# the block's 10 s console, so the walk is over when `pull` stops the firmware.
SPEED = 100


def test_flash_a_tbeam_against_the_virtual_board(tmp_path: Path) -> None:
    block = sh_blocks()[1]
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    # the real firmware (firmware/main.py, the device shell), as `opentag deploy` builds it
    env["OPENTAG_FIRMWARE"] = str(firmware_tree(tmp_path / "fw", device_shell=True))
    (tmp_path / "host").symlink_to(ROOT / "host")  # the README runs from the checkout
    samplelog.write_truth(tmp_path / "phone.gpx")  # "the GPX your phone recorded"
    # the board's receiver sends the sample walk (the default capture) from its first boot
    t0, epochs = gnss_schedule(samplelog.nmea_walk())
    with_fix = sum(b",A," in data for _, data in epochs)  # epochs with a position
    t0_s = t0 // 1000
    vb = subprocess.Popen(
        ["opentag", "vboard", "--image", str(tmp_path / "flash.img"), "--json",
         "--speed", str(SPEED)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert vb.stdout is not None
        port = json.loads(vb.stdout.readline())["port"]
        script = re.sub(r"^PORT=\S+", f"PORT={port}", block, flags=re.M)
        assert script != block
        r = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        vb.terminate()
        vb.wait(30)
    assert vb.returncode == 0  # SIGTERM ends it cleanly (its interpreter stopped with it)
    out = r.stdout
    assert r.returncode == 0, out[-3000:] + r.stderr[-3000:]
    assert "booted: opentag-boot version=" in out and "mode=normal" in out  # deploy: the shell
    # console: the shell's own log lines, on the board's clock, which the receiver set to the
    # walk's first epoch: fixes stamped within the walk, their t the capture's
    assert re.search(r"^\S+Z INFO  gnss: rail (on|off)$", out, re.M), out[-3000:]
    fixes = [int(t) for t in re.findall(r"^\S+Z INFO  fix: t=(\d+) ", out, re.M)]
    assert fixes and all(t0_s <= t <= t0_s + epochs[-1][0] // 1000 for t in fixes), out[-3000:]
    # pull: the walk runs into the example's zones (approach, breach) and along them, where
    # the fixed plan searches back to back: one fix an epoch, all but the epochs its rail's
    # off-on steps skip (measured: 703-734 of 736), never more than the epochs with a position.
    # A board lagging its 100x clock loses epochs as a stalled ESP32 overflows its UART ring
    # (2 cores shared with the suite), hence 2/3 as the floor.
    n = int(re.search(r"(\d+) fixes", out).group(1))  # type: ignore[union-attr]
    assert with_fix * 2 // 3 <= n <= with_fix, (n, with_fix)
    # replay --truth: the receiver's error is Gaussian, sigma NMEA_NOISE_M north and east: a
    # Rayleigh error, median sigma * sqrt(2 ln 2) (1.18 sigma); the median of hundreds of
    # fixes is within 15 % of it (the truth GPX is the straight walk: no error of its own)
    med = float(re.search(r"error median ([\d.]+) m", out).group(1))  # type: ignore[union-attr]
    expect = samplelog.NMEA_NOISE_M * math.sqrt(2 * math.log(2))
    assert abs(med - expect) <= 0.15 * expect, (med, expect)
    page = (tmp_path / "walk" / "report.html").read_text()
    assert "<svg" in page and f"{n} fixes" in page


def test_the_figures_moved_not_lost() -> None:
    figures = (ROOT / "docs" / "figures.md").read_text()
    for needle in ("82.6", "1,063", "99.8 %", "11.7 B", "5,404", "31.25 KB", "0.23 per 100"):
        assert needle in figures, needle
    assert "docs/figures.md" in README
    assert (ROOT / "docs" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
