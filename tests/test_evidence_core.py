"""The sealed store on both runtimes: the same workload (thinning, power cuts with torn tails)
under MicroPython and CPython writes the same bytes, seals included, and the log it leaves
verifies with `taghost.verify` (Python's hmac, apart from the core's HMAC)."""

from __future__ import annotations

from pathlib import Path

import pytest
from micropython_runner import MPY_TESTS, run_cpython, run_micropython
from taghost import verify as V

DRIVER = MPY_TESTS / "seal_run.py"
KID = b"\x07" * 8
K0 = bytes(range(32))


def files_of(out: str) -> dict[str, bytes]:
    return {
        p[1]: bytes.fromhex(p[2]) if len(p) > 2 else b""
        for p in (line.split() for line in out.splitlines())
        if p[0] == "file"
    }


def counts_of(out: str) -> list[int]:
    line = next(ln for ln in out.splitlines() if ln.startswith("counts"))
    return [int(v) for v in line.split()[1:]]


def write_log(files: dict[str, bytes], d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for n, b in files.items():
        if n.startswith("s"):
            (d / n).write_bytes(b)
    return d


# (fixes, segment bytes, segment budget, bytes between power cuts)
CASES = [(1500, 512, 6, 0), (1500, 512, 6, 700), (3000, 4096, 4, 0), (2500, 600, 5, 2500)]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[1]}B-cut{c[3]}" for c in CASES])
def test_identical_seals_on_both_runtimes_and_the_log_verifies(case: tuple, tmp_path: Path) -> None:
    args = tuple(str(v) for v in case)
    mpy = run_micropython(script=DRIVER, args=args, heap=2 * 1024 * 1024)
    cpy = run_cpython(script=DRIVER, args=args)
    assert mpy == cpy  # every file byte for byte: frames, seals, the key slot
    cuts, seals, thinned, _ = counts_of(cpy)
    if case[3]:
        assert cuts > 10
    else:
        assert seals > 50 and thinned > 500  # sealing went on through thinning
    rep = V.verify(V.read_segments(write_log(files_of(cpy), tmp_path / "log")), K0, KID)
    assert rep.ok, rep.text()
    assert rep.seals > 20 and rep.verified > 300
    # every record in the log is verified against a seal, or in the tail after the last one
    assert rep.verified + len(rep.seqs("UNSEALED_TAIL")) == rep.records
    assert rep.codes() <= {"THINNED", "UNSEALED_TAIL", "DROPPED_FOR_SPACE"}
    if not case[3]:
        assert "THINNED" in rep.codes()
    # the wrong initial key verifies nothing
    bad = V.verify(V.read_segments(tmp_path / "log"), bytes(32), KID)
    assert not bad.ok and "SEAL_FORGED" in bad.codes() and bad.verified == 0
