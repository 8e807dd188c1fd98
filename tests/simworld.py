"""Small worlds for the simulator's tests."""

from __future__ import annotations

from tagsim import boards, scenario
from tagsim.truth import Point

START = 825_753_600  # 2026-03-02T08:00:00Z in seconds since 2000


def doc(**over: object) -> dict:
    """A scenario document: home (indoor) -> walk 1.1 km east -> park (open) for 20 minutes."""
    d: dict = {
        "name": "t",
        "start": "2026-03-02T08:00:00Z",
        "places": [
            {"name": "home", "lat": 52.52, "lon": 13.37, "env": "indoor", "radius_m": 5},
            {"name": "park", "lat": 52.52, "lon": 13.386},
        ],
        "itinerary": [
            {"stay": "home", "for": "10m"},
            {"go": "park", "mode": "walk"},
            {"stay": "park", "for": "20m"},
        ],
    }
    d.update(over)
    return d


def make(**over: object) -> scenario.Scenario:
    return scenario.parse(doc(**over), "<test>")


def point(t: int, env: str = "open", lat: float = 52.52, lon: float = 13.37) -> Point:
    return Point(t, lat, lon, env, 0.0, 0.0, False)


def m8() -> boards.Gnss:
    return boards.load("tbeam_v12_axp2101").gnss
