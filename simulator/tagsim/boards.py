"""Board profiles (boards/*.json): loading and schema validation.

A profile is data shared by the simulator, the power model and the device shell: pins, the GNSS
receiver (model, time to first fix, currents) and the current drawn by each component in each
state. The validator names every problem with its JSON path, so a bad profile fails loudly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taghost import paths
from taghost.errors import UserError

from tagsim import docfile

BOARDS_DIR = paths.BOARDS  # a checkout's boards/, or the installed copy

# Component -> states every profile must give a current for (mA).
REQUIRED_CURRENTS = {
    "mcu": ("active", "light_sleep", "deep_sleep"),
    "ble": ("off", "scan"),
    "wifi": ("off", "rx", "tx"),
    "modem": ("off", "psm", "idle", "tx"),
}
GNSS_CURRENTS = ("off", "backup", "acquisition", "tracking")
TTFF_KINDS = ("cold", "warm", "hot")


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
    current_ma: dict[str, float]
    uere_m: float
    baud: int


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    gnss: Gnss
    current_ma: dict[str, dict[str, float]]  # component -> state -> mA (gnss included)
    board_overhead_ma: float  # drawn always (PMU, LEDs, regulators): measured where known
    pins: dict[str, Any]
    raw: dict[str, Any]

    def current(self, component: str, state: str) -> float:
        return self.current_ma[component][state]


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate(doc: Any) -> list[str]:
    """Every schema problem of a profile document, as 'path: problem' strings."""
    errs: list[str] = []
    if not isinstance(doc, dict):
        return ["$: a profile must be a JSON object"]

    def need(obj: Any, key: str, path: str, kind: type | tuple[type, ...]) -> Any:
        if not isinstance(obj, dict) or key not in obj:
            errs.append(f"{path}.{key}: missing")
            return None
        v = obj[key]
        if kind in (int, float, (int, float)) and not _num(v):
            errs.append(f"{path}.{key}: expected a number, got {v!r}")
            return None
        if not isinstance(v, kind):
            errs.append(f"{path}.{key}: expected {getattr(kind, '__name__', kind)}, got {v!r}")
            return None
        return v

    def nonneg(obj: Any, key: str, path: str) -> None:
        v = need(obj, key, path, (int, float))
        if v is not None and v < 0:
            errs.append(f"{path}.{key}: must be >= 0, got {v}")

    need(doc, "id", "$", str)
    need(doc, "name", "$", str)
    need(doc, "mcu", "$", dict)
    g = need(doc, "gnss", "$", dict)
    if g is not None:
        need(g, "model", "$.gnss", str)
        t = need(g, "talker", "$.gnss", str)
        if t is not None and t not in ("GN", "GP"):
            errs.append(f"$.gnss.talker: expected GN or GP, got {t!r}")
        r = need(g, "rate_hz", "$.gnss", int)
        if r is not None and not 1 <= r <= 10:
            errs.append(f"$.gnss.rate_hz: must be 1..10, got {r}")
        tt = need(g, "ttff_s", "$.gnss", dict)
        if tt is not None:
            for k in TTFF_KINDS:
                nonneg(tt, k, "$.gnss.ttff_s")
            if all(_num(tt.get(k)) for k in TTFF_KINDS) and not (
                tt["hot"] <= tt["warm"] <= tt["cold"]
            ):
                errs.append("$.gnss.ttff_s: expected hot <= warm <= cold")
        nonneg(g, "hot_window_s", "$.gnss")
        nonneg(g, "warm_window_s", "$.gnss")
        need(g, "backup_supply", "$.gnss", bool)
        nonneg(g, "uere_m", "$.gnss")
        c = need(g, "current_ma", "$.gnss", dict)
        if c is not None:
            for k in GNSS_CURRENTS:
                nonneg(c, k, "$.gnss.current_ma")
    pins = need(doc, "pins", "$", dict)
    if pins is not None:
        u = need(pins, "gnss_uart", "$.pins", dict)
        if u is not None:
            for k in ("rx", "tx"):
                p = need(u, k, "$.pins.gnss_uart", int)
                if p is not None and not 0 <= p <= 48:
                    errs.append(f"$.pins.gnss_uart.{k}: not an ESP32 GPIO: {p}")
            b = need(u, "baud", "$.pins.gnss_uart", int)
            if b is not None and b not in (4800, 9600, 19200, 38400, 57600, 115200, 230400):
                errs.append(f"$.pins.gnss_uart.baud: unusual baud rate {b}")
    pw = need(doc, "gnss_power", "$", dict)
    if pw is not None:
        m = need(pw, "method", "$.gnss_power", str)
        if m is not None and m not in ("pmu", "gpio"):
            errs.append(f"$.gnss_power.method: expected pmu or gpio, got {m!r}")
    cur = need(doc, "current_ma", "$", dict)
    if cur is not None:
        for comp, states in REQUIRED_CURRENTS.items():
            cs = need(cur, comp, "$.current_ma", dict)
            if cs is not None:
                for s in states:
                    nonneg(cs, s, f"$.current_ma.{comp}")
                for s, v in cs.items():
                    if not _num(v) or v < 0:
                        errs.append(f"$.current_ma.{comp}.{s}: must be a number >= 0, got {v!r}")
        nonneg(cur, "board_overhead", "$.current_ma")
    bat = need(doc, "battery", "$", dict)
    if bat is not None:
        nonneg(bat, "typical_mah", "$.battery")
    return errs


def from_dict(doc: dict[str, Any], where: str = "profile") -> Board:
    errs = validate(doc)
    if errs:
        raise BoardError(f"{where}: invalid board profile:\n  " + "\n  ".join(errs))
    g = doc["gnss"]
    cur = {k: {s: float(v) for s, v in doc["current_ma"][k].items()} for k in REQUIRED_CURRENTS}
    cur["gnss"] = {s: float(v) for s, v in g["current_ma"].items()}
    gnss = Gnss(
        model=g["model"],
        talker=g["talker"],
        rate_hz=g["rate_hz"],
        ttff_s={k: float(g["ttff_s"][k]) for k in TTFF_KINDS},
        hot_window_s=float(g["hot_window_s"]),
        warm_window_s=float(g["warm_window_s"]),
        backup_supply=g["backup_supply"],
        current_ma=cur["gnss"],
        uere_m=float(g["uere_m"]),
        baud=doc["pins"]["gnss_uart"]["baud"],
    )
    return Board(
        id=doc["id"],
        name=doc["name"],
        gnss=gnss,
        current_ma=cur,
        board_overhead_ma=float(doc["current_ma"]["board_overhead"]),
        pins=doc["pins"],
        raw=doc,
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
