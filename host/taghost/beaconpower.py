"""The victim beacon's battery life from its board profile (boards/beacons/*.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PROFILE = ROOT / "boards" / "beacons" / "esp32-wroom32-beacon.json"


def load_profile(path: str | Path = DEFAULT_PROFILE) -> dict[str, Any]:
    return dict(json.loads(Path(path).read_text()))


def average_ma(
    profile: dict[str, Any], adv_ms: float | None = None, sleep: str | None = None
) -> float:
    """Average current: the radio at ble_tx for one advertising event per interval, the CPU in
    light sleep (or idling awake) in between, plus the regulator."""
    radio = profile["radio"]
    cur = profile["currents_ma"]
    adv_ms = adv_ms or radio["adv_interval_ms"]
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
