"""Every test in tests/core runs twice: natively under pytest (CPython) and here, inside
MicroPython with an ESP32-sized heap. tests/core modules use only what both runtimes have."""

from __future__ import annotations

import ast

import pytest
from micropython_runner import CORE_TESTS, MPY_TESTS, run_micropython


def _core_tests() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(CORE_TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        heap = 64 * 1024
        for node in tree.body:
            # A module may ask for a different heap with `MPY_HEAP = <int>`.
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MPY_HEAP":
                heap = ast.literal_eval(node.value)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.append((path.stem, node.name, heap))
    return found


@pytest.mark.parametrize(("module", "func", "heap"), _core_tests())
def test_core_on_micropython(module: str, func: str, heap: int) -> None:
    out = run_micropython(script=MPY_TESTS / "core_runner.py", args=(module, func), heap=heap)
    assert f"PASS {module} {func}" in out
