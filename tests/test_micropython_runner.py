"""The MicroPython test helper itself: real interpreter, capped heap, MicroPython's traceback."""

from __future__ import annotations

import pytest
from micropython_runner import run_micropython


def test_runs_the_real_micropython_with_the_core_importable() -> None:
    out = run_micropython(
        code="import sys, tagcore.gnss.nmea as N; print(sys.implementation.name, N.LINE_MAX)"
    )
    assert out.split() == ["micropython", "128"]


def test_heap_is_capped() -> None:
    code = "b = bytearray(%d); print('allocated')"
    assert "allocated" in run_micropython(code=code % (40 * 1024))
    with pytest.raises(pytest.fail.Exception, match="MemoryError"):
        run_micropython(code=code % (100 * 1024))
    assert "allocated" in run_micropython(code=code % (100 * 1024), heap=256 * 1024)


def test_failure_quotes_micropythons_traceback() -> None:
    with pytest.raises(pytest.fail.Exception) as e:
        run_micropython(code="def f():\n    raise ValueError('boom')\nf()")
    assert "Traceback (most recent call last)" in str(e.value)
    assert "ValueError: boom" in str(e.value)
