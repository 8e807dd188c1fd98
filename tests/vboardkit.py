"""Fixtures for the host tools' tests: a virtual board (taghost.vboard) and a firmware tree.

The firmware tree is the checkout's tagcore/ and tagdevice/ with the stand-in main.py of
tests/vboard/ (a deterministic log for the console and pull tests, on a board without a
receiver), or the device shell's own firmware/main.py (the README's flash-a-T-Beam test, whose
virtual board's receiver sends a walk, and the tests that boot the shell).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from taghost.vboard import VirtualBoard

ROOT = Path(__file__).resolve().parent.parent
OPENTAG = str(Path(sys.executable).parent / "opentag")


STAND_IN_MAIN = ROOT / "tests" / "vboard" / "main.py"
DEVICE_MAIN = ROOT / "firmware" / "main.py"


def firmware_tree(dest: Path, device_shell: bool = False) -> Path:
    """firmware/'s packages with the stand-in main.py (deterministic: it logs the sample walk),
    or with the device shell's own boot.py/main.py (device_shell=True)."""
    for pkg in ("tagcore", "tagdevice"):
        shutil.copytree(ROOT / "firmware" / pkg, dest / pkg)
    if device_shell:
        for name in ("boot.py", "main.py"):
            if (ROOT / "firmware" / name).is_file():
                shutil.copy(ROOT / "firmware" / name, dest / name)
        for extra in (ROOT / "firmware").iterdir():  # the shell's own package(s), if any
            if extra.is_dir() and extra.name not in ("tagcore", "tagdevice", "beacon"):
                shutil.copytree(extra, dest / extra.name)
    else:
        shutil.copy(STAND_IN_MAIN, dest / "main.py")
    return dest


@pytest.fixture
def vboard(tmp_path: Path) -> Iterator[VirtualBoard]:
    with VirtualBoard(tmp_path / "flash.img") as vb:
        vb.wait_for(b">>> ")
        yield vb


@pytest.fixture
def fw(tmp_path: Path) -> Path:
    return firmware_tree(tmp_path / "fw")


def opentag(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENTAG, *args], capture_output=True, text=True, timeout=timeout)


def mpremote(port: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mpremote", "connect", port, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
