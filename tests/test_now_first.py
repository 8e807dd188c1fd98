"""`now` first (docs/conventions.md): every public method of the core that takes the moment it is
called at takes it as its first argument, so a caller never has to look up where it goes.
Constructors are the stated exception: they take their configuration first."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "firmware" / "tagcore"


def _now_not_first(tree: ast.AST) -> list[str]:
    """Methods (public, not __init__) whose parameters include `now` anywhere but first."""
    out = []
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_"):
                continue
            names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            if names and names[0] in ("self", "cls"):
                names = names[1:]
            if "now" in names[1:]:
                out.append(f"{cls.name}.{fn.name}({', '.join(names)})")
    return out


def test_the_finder_sees_now_out_of_place() -> None:
    src = "class A:\n    def go(self, mode, now): pass\n    def ok(self, now, mode): pass\n"
    assert _now_not_first(ast.parse(src)) == ["A.go(mode, now)"]


def test_core_public_methods_take_now_first() -> None:
    late = []
    for f in sorted(CORE.rglob("*.py")):
        late += [f"{f.relative_to(CORE)}: {m}" for m in _now_not_first(ast.parse(f.read_text()))]
    assert late == []
