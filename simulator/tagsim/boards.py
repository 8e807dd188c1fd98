"""Board profiles (boards/*.json): loading and schema validation.

A profile is data shared by the simulator, the power model and the device shell: pins, the GNSS
receiver (model, family, power modes it supports, time to first fix as datasheet figures and as
field distributions, currents), how its rail is switched, and the current drawn by each
component in each state. Every current and time cites its source in `sources`, keyed by the
JSON path it covers (a key covers every number below it). The validator names every problem
with its JSON path, so a bad profile fails loudly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
# Receiver families the core has a driver for (firmware/tagcore/gnss/).
FAMILIES = ("ublox_m8", "ublox_m10", "l76k", "mtk", "unicore")
GNSS_FLAGS = ("power_save", "soft_backup", "backup_on_rail_off", "keeps_config_on_rail_off")
# Numbers that must cite a source: every leaf below these paths.
CITED = (
    "gnss.current_ma",
    "gnss.ttff_s",
    "gnss.ttff_field_s",
    "gnss.current_field_ma",
    "gnss.hot_window_s",
    "gnss.warm_window_s",
    "gnss.backup_hold_s",
    "current_ma",
)


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
        fam = need(g, "family", "$.gnss", str)
        if fam is not None and fam not in FAMILIES:
            errs.append(f"$.gnss.family: expected one of {', '.join(FAMILIES)}, got {fam!r}")
        flags = {k: need(g, k, "$.gnss", bool) for k in GNSS_FLAGS}
        if flags["power_save"] and c is not None:
            nonneg(c, "power_save", "$.gnss.current_ma")
            if _num(c.get("power_save")) and _num(c.get("tracking")):
                if c["power_save"] >= c["tracking"]:
                    errs.append("$.gnss.current_ma.power_save: must be below tracking")
        fd = need(g, "ttff_field_s", "$.gnss", dict)
        if fd is not None:
            for k in ("hot", "cold"):
                q = need(fd, k, "$.gnss.ttff_field_s", list)
                if q is None:
                    continue
                if not q or not all(_num(v) and v >= 0 for v in q):
                    errs.append(f"$.gnss.ttff_field_s.{k}: a non-empty list of seconds >= 0")
                elif any(q[i] > q[i + 1] for i in range(len(q) - 1)):
                    errs.append(f"$.gnss.ttff_field_s.{k}: quantiles must not decrease")
        if "backup_hold_s" in g:
            nonneg(g, "backup_hold_s", "$.gnss")
        cf = g.get("current_field_ma", {})
        if not isinstance(cf, dict):
            errs.append("$.gnss.current_field_ma: an object of mA by state")
        elif c is not None:
            for k, v in cf.items():
                if not _num(c.get(k)):
                    errs.append(f"$.gnss.current_field_ma.{k}: no datasheet figure to stand for")
                elif not _num(v) or v < c[k]:  # field figures are the worse ones: else unused
                    errs.append(f"$.gnss.current_field_ma.{k}: a number no better than current_ma")
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
        if m == "pmu":
            for k in ("i2c_addr", "reg", "bit"):
                need(pw, k, "$.gnss_power", int)
        elif m == "gpio":
            need(pw, "pin", "$.gnss_power", int)
            a = pw.get("active", "high")
            if a not in ("high", "low"):
                errs.append(f"$.gnss_power.active: expected high or low, got {a!r}")
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
    errs.extend(_uncited(doc))
    return errs


def _leaves(obj: Any, path: str) -> list[str]:
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _leaves(v, f"{path}.{k}")]
    if isinstance(obj, list):
        return [path] if obj and all(_num(v) for v in obj) else []
    return [path] if _num(obj) else []


def _uncited(doc: dict[str, Any]) -> list[str]:
    """Every current and time without a source: a `sources` key must equal its path or a
    prefix of it (path components, not characters)."""
    src = doc.get("sources")
    if not isinstance(src, dict):
        return ["$.sources: missing"]
    keys = [k for k, v in src.items() if isinstance(v, str) and v.strip()]
    out = []
    for root in CITED:
        obj: Any = doc
        for part in root.split("."):
            obj = obj.get(part) if isinstance(obj, dict) else None
        if obj is None:
            continue
        for leaf in _leaves(obj, root):
            if not any(leaf == k or leaf.startswith(k + ".") for k in keys):
                out.append(f"$.{leaf}: no source cited in $.sources")
    return out


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
