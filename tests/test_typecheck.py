"""The device type check catches CPython-only code and accepts MicroPython APIs."""

from __future__ import annotations

from pathlib import Path

import pytest
from taghost import typecheck


def _check(tmp_path: Path, src: str) -> int:
    f = tmp_path / "devmod.py"
    f.write_text(src)
    return typecheck.main([str(f)])


def test_firmware_passes() -> None:
    assert typecheck.main([]) == 0


@pytest.mark.parametrize(
    "src",
    [
        "import dataclasses\n",
        "import time\ntime.perf_counter_ns()\n",
        "import machine\nmachine.Pin('x', 'y', 'z', 'w', 'v', 'u')\n",
    ],
)
def test_cpython_only_or_wrong_calls_fail(tmp_path: Path, src: str) -> None:
    assert _check(tmp_path, src) != 0


def test_micropython_apis_pass(tmp_path: Path) -> None:
    src = (
        "import machine\nimport time\n"
        "p = machine.Pin(2, machine.Pin.OUT)\np.value(1)\n"
        "t: int = time.ticks_diff(time.ticks_ms(), 0)\n"
    )
    assert _check(tmp_path, src) == 0


def test_host_code_passes() -> None:
    assert typecheck.host_main() == 0


@pytest.mark.parametrize(
    "src",
    [
        "def f(x: int) -> str:\n    return x\n",
        "x: int = 'a'  # type: ignore\n",  # an ignore must name its error code
        "import shapely\nshapely.Point('a', 'b', 'c', 'd')\n",  # shapely's stubs are installed
    ],
)
def test_host_type_errors_fail(tmp_path: Path, src: str) -> None:
    f = tmp_path / "hostmod.py"
    f.write_text(src)
    assert typecheck.host_main([str(f)]) != 0


def test_host_code_may_use_cpython(tmp_path: Path) -> None:
    f = tmp_path / "hostmod.py"
    f.write_text("import dataclasses\nimport time\nt: int = time.perf_counter_ns()\n")
    assert typecheck.host_main([str(f)]) == 0
