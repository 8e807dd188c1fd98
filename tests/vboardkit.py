"""Fixtures for the host tools' tests: a virtual board (taghost.vboard) and a firmware tree.

The firmware tree is the checkout's tagcore/ and tagdevice/ with the stand-in main.py of
tests/vboard/ until the device shell's own firmware/main.py exists.
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


def firmware_tree(dest: Path) -> Path:
    for pkg in ("tagcore", "tagdevice"):
        shutil.copytree(ROOT / "firmware" / pkg, dest / pkg)
    main = ROOT / "firmware" / "main.py"
    shutil.copy(main if main.is_file() else ROOT / "tests" / "vboard" / "main.py", dest / "main.py")
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
