"""Where the project's data lives: in a source checkout, or where `pip install` put it.

From a checkout the data is beside the code (boards/, simulator/scenarios/, firmware/). An
installed wheel carries the same tree as data files under `<prefix>/share/opentag/`
(pyproject.toml, [tool.setuptools.data-files]). The corpus of real captures is not shipped:
`OPENTAG_CORPUS`, else `OPENTAG_SHARED/corpus/gpsd`, else `../shared/corpus/gpsd` beside a
checkout.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

from taghost.errors import UserError

_CHECKOUT = Path(__file__).resolve().parents[2]


def _is_checkout(root: Path) -> bool:
    return (root / "pyproject.toml").is_file() and (root / "boards").is_dir()


def data_roots() -> list[Path]:
    """Where to look, in order: the checkout this code runs from, then the install prefixes."""
    roots = [_CHECKOUT] if _is_checkout(_CHECKOUT) else []
    # <prefix>/lib/pythonX.Y/site-packages/taghost/paths.py: the prefix this copy went into
    # (pip --prefix, --user), then the running interpreter's.
    here = (
        Path(__file__).resolve().parents[4] if len(Path(__file__).resolve().parents) > 4 else None
    )
    for base in (here, sysconfig.get_path("data"), sys.prefix, sys.base_prefix):
        if base is None:
            continue
        share = Path(base) / "share" / "opentag"
        if share not in roots:
            roots.append(share)
    return roots


def data(*parts: str) -> Path:
    """A shipped data file or directory (e.g. data("boards")); the first root that has it."""
    for root in data_roots():
        p = root.joinpath(*parts)
        if p.exists():
            return p
    return data_roots()[0].joinpath(*parts)  # where it should be: the error names this path


ROOT = data_roots()[0]
FIRMWARE = data("firmware")
BOARDS = data("boards")
SCENARIOS = data("simulator", "scenarios")
EXAMPLES = Path(__file__).resolve().parent / "examples"  # package data of taghost


def shared() -> Path:
    return Path(os.environ.get("OPENTAG_SHARED") or _CHECKOUT.parent / "shared")


def corpus() -> Path:
    return Path(os.environ.get("OPENTAG_CORPUS") or shared() / "corpus" / "gpsd")


def demo_capture() -> Path:
    """A phone modem walking in and out of coverage: real fixes, lost fixes, undated epochs."""
    p = corpus() / "quectel-eg25-g.log"
    if not p.is_file():
        raise UserError(
            f"no capture given and the demo capture {p} is missing: give a FILE, or point "
            "OPENTAG_CORPUS at the gpsd captures (shared/corpus/gpsd)"
        )
    return p
