"""The victim beacon's battery life from its board profile (boards/beacons/*.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taghost import paths
from taghost.errors import UserError

DEFAULT_PROFILE = paths.data("boards", "beacons", "esp32-wroom32-beacon.json")
# The Bluetooth Core Specification (5.0 on) allows legacy advertising every 20 ms to 10.24 s.
ADV_MIN_MS, ADV_MAX_MS = 20, 10240
NEEDS = {
    "battery": ("capacity_mah", "usable_fraction"),
    "radio": ("adv_interval_ms", "adv_event_ms"),
    "currents_ma": ("ble_tx", "cpu_idle_80mhz", "light_sleep", "ldo_quiescent"),
}


def load_profile(path: str | Path = DEFAULT_PROFILE) -> dict[str, Any]:
    """A beacon profile, or a UserError naming the file and what it lacks."""
    path = Path(path)
    try:
        prof = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not valid JSON: {e}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not a text (JSON) file") from None
    if not isinstance(prof, dict):
        raise UserError(f"{path}: a beacon profile is a JSON object")
    for sect, keys in NEEDS.items():
        for k in keys:
            v = prof.get(sect, {}).get(k) if isinstance(prof.get(sect), dict) else None
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
                raise UserError(f"{path}: {sect}.{k} must be a positive number, got {v!r}")
    if prof["battery"]["usable_fraction"] > 1:
        raise UserError(f"{path}: battery.usable_fraction must be at most 1")
    prof.setdefault("name", path.stem)
    prof.setdefault("default_sleep", "light")
    return dict(prof)


def check_adv_ms(profile: dict[str, Any], adv_ms: float) -> None:
    """An advertising interval the radio can keep: within Bluetooth's legal range and longer
    than one advertising event (else the duty cycle would pass 100 %)."""
    event = profile["radio"]["adv_event_ms"]
    if not ADV_MIN_MS <= adv_ms <= ADV_MAX_MS:
        raise UserError(
            f"advertising interval {adv_ms} ms is outside Bluetooth's {ADV_MIN_MS}-{ADV_MAX_MS} ms"
        )
    if adv_ms <= event:
        raise UserError(f"advertising interval {adv_ms} ms is not longer than one event {event} ms")


def average_ma(
    profile: dict[str, Any], adv_ms: float | None = None, sleep: str | None = None
) -> float:
    """Average current: the radio at ble_tx for one advertising event per interval, the CPU in
    light sleep (or idling awake) in between, plus the regulator."""
    radio = profile["radio"]
    cur = profile["currents_ma"]
    adv_ms = radio["adv_interval_ms"] if adv_ms is None else adv_ms
    check_adv_ms(profile, adv_ms)
    sleep = sleep or profile["default_sleep"]
    event = radio["adv_event_ms"]
    between = cur["light_sleep"] if sleep == "light" else cur["cpu_idle_80mhz"]
    duty = event / adv_ms
    return float(cur["ble_tx"] * duty + between * (1 - duty) + cur["ldo_quiescent"])


def battery_days(
    profile: dict[str, Any], adv_ms: float | None = None, sleep: str | None = None
) -> float:
    bat = profile["battery"]
    mah = bat["capacity_mah"] * bat["usable_fraction"]
    return mah / average_ma(profile, adv_ms, sleep) / 24
