"""Every command block of the README runs: `make demo` and `make test` (the latter as a dry run:
it is the suite this test is part of), the flash-a-T-Beam sequence against a virtual board that
`opentag vboard` starts, exactly as the README says; and the README keeps its figures' home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from taghost import samplelog
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


def test_flash_a_tbeam_against_the_virtual_board(tmp_path: Path) -> None:
    block = sh_blocks()[1]
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    # until the device shell's firmware/main.py lands, the stand-in (it logs a walk)
    env["OPENTAG_FIRMWARE"] = str(firmware_tree(tmp_path / "fw"))
    (tmp_path / "host").symlink_to(ROOT / "host")  # the README runs from the checkout
    samplelog.write_truth(tmp_path / "phone.gpx")  # "the GPX your phone recorded"
    vb = subprocess.Popen(
        ["opentag", "vboard", "--image", str(tmp_path / "flash.img"), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert vb.stdout is not None
        port = __import__("json").loads(vb.stdout.readline())["port"]
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
    assert "booted: opentag-boot" in out  # deploy
    assert re.search(r"^2026-12-07T23:\d\d:\d\dZ INFO  main: alive", out, re.M)  # console
    assert "148 fixes" in out  # pull
    assert "error median 6.01 m" in out  # replay --truth
    page = (tmp_path / "walk" / "report.html").read_text()
    assert "<svg" in page and "148 fixes" in page


def test_the_figures_moved_not_lost() -> None:
    figures = (ROOT / "docs" / "figures.md").read_text()
    for needle in ("82.6", "1,063", "99.8 %", "11.7 B", "5,404", "31.25 KB", "0.23 per 100"):
        assert needle in figures, needle
    assert "docs/figures.md" in README
    assert (ROOT / "docs" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
