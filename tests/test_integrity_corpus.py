"""The integrity checks over every real capture in ../shared/corpus/gpsd (87 receivers in
ordinary use, with line noise and week-rollover dates): none raises an attack alert, and both
runtimes make the same decisions, byte for byte (tests/mpy/integrity_replay.py)."""

from __future__ import annotations

from functools import cache

from corpus import capture_files, driver_input, per_capture
from micropython_runner import MPY_TESTS, run_cpython, run_micropython

DRIVER = MPY_TESTS / "integrity_replay.py"


@cache
def _cpython() -> str:
    return run_cpython(script=DRIVER, stdin=driver_input())


def test_no_capture_raises_an_attack_alert() -> None:
    files = per_capture(_cpython())
    assert len(files) == len(capture_files())
    alerts = {name: [ln for ln in lines if ln.startswith("E ")] for name, lines in files.items()}
    assert {k: v for k, v in alerts.items() if v} == {}
    # The checks did see the sky: most captures carry GSVs with C/N0 the summary used.
    seen = [name for name, lines in files.items() if int(lines[-2].split()[2]) >= 4]
    assert len(seen) >= 60, seen


def test_both_runtimes_decide_alike_on_the_corpus() -> None:
    mp = run_micropython(script=DRIVER, stdin=driver_input(), heap=64 * 1024)
    assert mp == _cpython()
