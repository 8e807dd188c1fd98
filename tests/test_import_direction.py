"""One direction of imports (docs/conventions.md): the simulator may import host code; host code
reaches the simulator only through its public entry points (the `opentag sim` commands, the
demo), never its private names. Shared host code (taghost.draw, taghost.units, tagkit) is where
both sides meet."""

from __future__ import annotations

import ast
from pathlib import Path

HOST = Path(__file__).resolve().parents[1] / "host"


def _simulator_uses(tree: ast.AST) -> list[str]:
    """Every name host code takes from tagsim, as "module.name"."""
    bound: dict[str, str] = {}  # local name -> tagsim module it is bound to
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tagsim":
            for a in node.names:
                out.append(f"{node.module}.{a.name}")
                bound[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "tagsim":
                    bound[a.asname or a.name] = a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
        ):
            out.append(f"{bound[node.value.id]}.{node.attr}")
    return out


def test_host_code_uses_no_private_simulator_name() -> None:
    private = []
    for f in sorted(HOST.rglob("*.py")):
        for name in _simulator_uses(ast.parse(f.read_text())):
            if any(part.startswith("_") for part in name.split(".")):
                private.append(f"{f.relative_to(HOST)}: {name}")
    assert not private, private


def test_the_host_report_draws_with_shared_host_code_not_the_simulators_report() -> None:
    used = _simulator_uses(ast.parse((HOST / "taghost" / "report.py").read_text()))
    assert used == [], used
