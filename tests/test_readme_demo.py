"""The README's first command block, `make demo` and `make test` (the latter as a dry run: it
is the suite this test is part of). The other blocks: tests/test_readme.py."""

from __future__ import annotations

import subprocess

from test_readme import sh_blocks
from vboardkit import ROOT


def test_make_demo_and_make_test() -> None:
    block = sh_blocks()[0]
    cmds = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert cmds == ["make demo", "make test"]
    r = subprocess.run(["make", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "report" in r.stdout
    r = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and "pytest" in r.stdout, r.stderr
