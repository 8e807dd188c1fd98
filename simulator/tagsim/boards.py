"""Board profiles (boards/*.json): loading and schema validation.

A profile is data shared by the simulator, the power model and the device shell: pins, the GNSS
receiver (model, family, power modes it supports, time to first fix as datasheet figures and as
field distributions, currents), how its rail is switched, and the current drawn by each
component in each state. Every current and time cites its source in `sources`, keyed by the
JSON path it covers (a key covers every number below it). The schema check is the core's
(tagcore.board: the device runs the same one on /prov/board.json); it names every problem with
its JSON path, so a bad profile fails loudly. This module adds the simulator's typed view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagcore import board as boardcheck
from taghost import paths
from taghost.errors import UserError

from tagsim import docfile

BOARDS_DIR = paths.BOARDS  # a checkout's boards/, or the installed copy

REQUIRED_CURRENTS = dict(boardcheck.REQUIRED_CURRENTS)  # component -> states (mA)
TTFF_KINDS = boardcheck.TTFF_KINDS


class BoardError(UserError):
    """A board profile is missing or malformed; the message lists every problem found."""


@dataclass(frozen=True)
class Gnss:
    model: str
    talker: str
    rate_hz: int
    ttff_s: dict[str, float]  # cold / warm / hot
    hot_window_s: float  # off for less than this: hot start (ephemeris still valid)
    warm_window_s: float  # off for less than this: warm start (almanac, time, position)
    backup_supply: bool  # False: every power-up is a cold start
    current_ma: dict[str, float]  # the datasheet figures (Board.current_ma["gnss"]: charged)
    uere_m: float
    baud: int
    family: str = "ublox_m8"
    power_save: bool = False  # the driver uses the receiver's own power save (cyclic)
    soft_backup: bool = False  # a commanded backup / standby that keeps ephemeris
    backup_on_rail_off: bool = False  # RAM (ephemeris) kept while the rail is cut
    keeps_config_on_rail_off: bool = False
    ttff_field_s: dict[str, tuple[float, ...]] = field(default_factory=dict)  # deciles per kind
    backup_hold_s: float | None = None  # a backup cell keeps RAM this long without main power


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    gnss: Gnss
    current_ma: dict[str, dict[str, float]]  # component -> state -> mA (gnss included)
    board_overhead_ma: float  # drawn always (PMU, LEDs, regulators): measured where known
    pins: dict[str, Any]
    raw: dict[str, Any]
    gnss_power: dict[str, Any] = field(default_factory=dict)  # rail control, as in the profile
    board_states_ma: dict[str, float] = field(default_factory=dict)  # measured, per state

    def current(self, component: str, state: str) -> float:
        return self.current_ma[component][state]


def validate(doc: Any) -> list[str]:
    """Every schema problem of a profile document, as 'path: problem' strings: the core's own
    check (tagcore.board), the one the tag runs on /prov/board.json, sources included."""
    return [f"{path}: {problem}" for path, problem in boardcheck.check(doc)]


def from_dict(doc: dict[str, Any], where: str = "profile") -> Board:
    errs = validate(doc)
    if errs:
        raise BoardError(f"{where}: invalid board profile:\n  " + "\n  ".join(errs))
    g = doc["gnss"]
    cur = {k: {s: float(v) for s, v in doc["current_ma"][k].items()} for k in REQUIRED_CURRENTS}
    # what the simulator charges: the field figure where the profile gives one (never better
    # than the datasheet's, validate says), else the datasheet's (gnss.current_ma keeps those)
    ds = {s: float(v) for s, v in g["current_ma"].items()}
    cur["gnss"] = dict(ds, **{s: float(v) for s, v in g.get("current_field_ma", {}).items()})
    gnss = Gnss(
        model=g["model"],
        talker=g["talker"],
        rate_hz=g["rate_hz"],
        ttff_s={k: float(g["ttff_s"][k]) for k in TTFF_KINDS},
        hot_window_s=float(g["hot_window_s"]),
        warm_window_s=float(g["warm_window_s"]),
        backup_supply=g["backup_supply"],
        current_ma=ds,
        uere_m=float(g["uere_m"]),
        baud=doc["pins"]["gnss_uart"]["baud"],
        family=g["family"],
        power_save=g["power_save"],
        soft_backup=g["soft_backup"],
        backup_on_rail_off=g["backup_on_rail_off"],
        keeps_config_on_rail_off=g["keeps_config_on_rail_off"],
        ttff_field_s={k: tuple(float(v) for v in q) for k, q in g["ttff_field_s"].items()},
        backup_hold_s=float(g["backup_hold_s"]) if "backup_hold_s" in g else None,
    )
    return Board(
        id=doc["id"],
        name=doc["name"],
        gnss=gnss,
        current_ma=cur,
        board_overhead_ma=float(doc["current_ma"]["board_overhead"]),
        pins=doc["pins"],
        raw=doc,
        gnss_power=doc["gnss_power"],
        board_states_ma={k: float(v) for k, v in doc["current_ma"].get("board_states", {}).items()},
    )


def load_file(path: Path) -> Board:
    doc = docfile.read(path, json.loads, json.JSONDecodeError, BoardError, "board profile", "JSON")
    board = from_dict(doc, str(path))
    if board.id != path.stem:
        raise BoardError(f"{path}: id {board.id!r} does not match the file name")
    return board


def available() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.json"))


def load(name_or_path: str) -> Board:
    """A board by id (boards/<id>.json) or by path to a JSON file."""
    p = Path(name_or_path)
    if p.suffix == ".json":
        return load_file(p)
    if not (BOARDS_DIR / f"{name_or_path}.json").exists():
        raise BoardError(f"unknown board {name_or_path!r}; known: {', '.join(available())}")
    return load_file(BOARDS_DIR / f"{name_or_path}.json")
