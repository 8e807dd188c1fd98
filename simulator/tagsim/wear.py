"""Ordinary wear and attacks for the GNSS integrity figures (bench/bench_integrity.py, tests).

- `ordinary_day(seed)`: one day of a wearer's life in a city, as a scenario document: night at
  home (indoor), a walk through streets (urban) and down a station (indoor stairs) to an
  underground line (8-25 min, stops at platforms), the office (indoor), lunch in a park (open),
  some days a bus through a road tunnel or a car through a motorway tunnel, a shop, home.
- `attack_day(kind, env, seed)`: a day at one place with an attack every 3 hours (20 minutes of
  foil, a jammer van parked 20 minutes, a spoofer replaying home for 20 minutes);
  `attack_day(..., mode="walk")` (or "bus") the same attacks on a wearer travelling all day
  through the streets (the jammer's distance is to the wearer: parked, it is a car following
  them; passing, one that overtakes or meets them; the spoofer still replays home).
- `fast_run(sc)`: the receiver model and the core's integrity checks on the tag's duty cycle
  (the Planner's defaults: a search every fix_interval_s, ending at the first fix or after
  max_search_s; every ALARM_FIX_S after an alert, WATCH_S on a suspicion) without writing and
  parsing NMEA: the C/N0 summary is taken from the model's view, as its GSVs would carry it
  (tests/test_integrity_sim.py holds the two equal). ~10x faster than the engine; the attack
  figures use the engine with the whole TagApp.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tagcore.app.app import ALARM_FIX_S, ALARM_S
from tagcore.app.config import KEYS
from tagcore.fix import Fix
from tagcore.gnss import integrity as I
from tagcore.gnss.fixfilter import FixFilter
from taghost.units import iso

from tagsim.receiver import Receiver
from tagsim.scenario import MODES, Scenario
from tagsim.truth import Trajectory

DAY = 86400
START = 825724800  # 2026-03-02T00:00:00Z
DEFAULTS = {k[1]: k[2] for k in KEYS}

PLACES = [
    {"name": "home", "lat": 52.5200, "lon": 13.3700, "env": "indoor", "radius_m": 8},
    {"name": "stop_home", "lat": 52.5230, "lon": 13.3760, "env": "urban", "radius_m": 3},
    {"name": "hall_home", "lat": 52.5232, "lon": 13.3763, "env": "indoor", "radius_m": 3},
    {"name": "hall_work", "lat": 52.5160, "lon": 13.4400, "env": "indoor", "radius_m": 3},
    {"name": "office", "lat": 52.5150, "lon": 13.4430, "env": "indoor", "radius_m": 10},
    {"name": "park", "lat": 52.5120, "lon": 13.4470, "env": "open", "radius_m": 60},
    {"name": "shop", "lat": 52.5250, "lon": 13.3800, "env": "indoor", "radius_m": 10},
    {"name": "friend", "lat": 52.4300, "lon": 13.2500, "env": "indoor", "radius_m": 8},
    {"name": "cafe", "lat": 52.5310, "lon": 13.4010, "env": "urban", "radius_m": 5},
]


def _hhmm(s: int) -> str:
    return f"{s // 60}m"


def ordinary_day(seed: int) -> dict:
    rng = random.Random(seed)
    it: list[dict] = [{"stay": "home", "for": _hhmm(rng.randint(390, 480) * 60)}]
    it += [
        {"go": "stop_home", "mode": "walk", "env": "urban"},
        {"go": "hall_home", "mode": "walk", "env": "indoor"},  # the stairs down
        {  # the underground line: platforms are underground too
            "go": "hall_work",
            "mode": "bus",
            "env": "underground",
            "via": [[52.519, 13.40], [52.517, 13.42 + rng.uniform(-0.01, 0.02)]],
        },
        {"go": "office", "mode": "walk", "env": "urban"},
        {"stay": "office", "for": _hhmm(rng.randint(200, 260) * 60)},
        {"go": "park", "mode": "walk", "env": "urban"},
        {"stay": "park", "for": _hhmm(rng.randint(20, 45) * 60)},
        {"go": "office", "mode": "walk", "env": "urban"},
        {"stay": "office", "for": _hhmm(rng.randint(180, 240) * 60)},
    ]
    r = rng.random()
    if r < 0.3:  # home by bus, through a road tunnel
        a = rng.uniform(0.3, 0.6)
        it.append(
            {
                "go": "stop_home",
                "mode": "bus",
                "env": "urban",
                "sections": [{"from": a, "to": a + rng.uniform(0.05, 0.12), "env": "underground"}],
            }
        )
    elif r < 0.45:  # to a friend's by car, a motorway tunnel, then home
        a = rng.uniform(0.2, 0.6)
        it += [
            {
                "go": "friend",
                "mode": "car",
                "env": "open",
                "sections": [{"from": a, "to": a + rng.uniform(0.08, 0.2), "env": "underground"}],
            },
            {"stay": "friend", "for": _hhmm(rng.randint(60, 150) * 60)},
            {"go": "stop_home", "mode": "car", "env": "urban"},
        ]
    else:  # the underground line back
        it += [
            {"go": "hall_work", "mode": "walk", "env": "urban"},
            {"go": "hall_home", "mode": "bus", "env": "underground"},
            {"go": "stop_home", "mode": "walk", "env": "indoor"},  # the stairs up
        ]
    if rng.random() < 0.6:
        it += [
            {"go": "shop", "mode": "walk", "env": "urban"},
            {"stay": "shop", "for": _hhmm(rng.randint(10, 40) * 60)},
        ]
    it += [{"go": "home", "mode": "walk", "env": "urban"}, {"stay": "home", "for": "24h"}]
    return {
        "name": f"ordinary-{seed}",
        "start": "2026-03-02T00:00:00Z",
        "duration": "24h",
        "seed": seed,
        "places": PLACES,
        "itinerary": it,
    }


# A travelling wearer's two ends (attack_day's `mode`): 4.2 km apart along a street, east of home
THERE = {"name": "there", "lat": 52.5310, "lon": 13.4630, "env": "urban", "radius_m": 5}


def attack_day(
    kind: str, env: str, seed: int, per_day: int = 8, mode: str | None = None, **attack: object
) -> dict:
    """A day at one place (its env) with `per_day` attacks at random minutes of every 3 h; with
    `mode` (walk, bus, ...) the wearer travels all day instead, back and forth between that place
    and THERE through `env` (a street: urban), so every attack finds them on the move."""
    rng = random.Random(seed)
    place = {"name": "here", "lat": 52.5310, "lon": 13.4010, "env": env, "radius_m": 5}
    home = {"name": "home", "lat": 52.5200, "lon": 13.3700, "env": "indoor", "radius_m": 8}
    places = [place, home]
    itinerary: list[dict] = [{"stay": "here", "for": "24h"}]
    if mode is not None:
        places.append(THERE)
        itinerary = [{"stay": "here", "for": "1m"}]
        # enough legs for the day at the mode's cruising speed and no stops (the rest is a stay)
        legs = int(DAY * MODES[mode] * 1.2 / 4200) + 2
        for k in range(legs):
            itinerary.append({"go": ("there", "here")[k % 2], "mode": mode, "env": env})
        itinerary.append({"stay": ("here", "there")[legs % 2], "for": "24h"})
    out = []
    for k in range(per_day):
        at = START + k * (DAY // per_day) + rng.randint(20, 120) * 60
        a: dict = {"kind": kind, "at": iso(at), "for": "20m"}
        if kind == "spoofer":
            a["place"] = "home"
        a.update(attack)
        out.append(a)
    return {
        "name": f"{kind}-{env}-{seed}" + (f"-{mode}" if mode else ""),
        "start": "2026-03-02T00:00:00Z",
        "duration": "24h",
        "seed": seed,
        "places": places,
        "itinerary": itinerary,
        "attack": out,
    }


@dataclass
class FastRun:
    events: list[tuple[int, int, int]] = field(default_factory=list)  # (now, kind, onset)
    counts: dict[str, int] = field(default_factory=dict)
    epochs: int = 0
    searches: int = 0


def summary(view: list) -> list[int]:
    """What the reader's GSV hook sums for one epoch of the model's view."""
    trk = [v[4] for v in view if v[4] > 0]
    return [1, len(trk), sum(trk), sum(c * c for c in trk), max(trk, default=0)]


def fast_run(sc: Scenario) -> FastRun:
    truth = Trajectory(sc.itinerary, sc.places, sc.start, sc.seed)
    rx = Receiver(sc.board.gnss, sc.seed + 1)
    rx.attacks = sc.attacks
    rx.text = False
    g = I.Integrity()
    ff = FixFilter()
    st = sc.tag.settings
    interval = st.get("fix_interval_s", DEFAULTS["fix_interval_s"])
    max_search = st.get("max_search_s", DEFAULTS["max_search_s"])
    out = FastRun()
    alarm_until = -1
    t, end = sc.start, sc.start + sc.duration
    while t < end:
        rx.power(True, t)
        out.searches += 1
        s0 = t
        got = False
        while t < end and not got and t - s0 < max_search:
            p = truth.at(t)
            ep = rx.epoch(p)
            out.epochs += 1
            g.now = t
            g.cn0[:] = summary(ep.view or [])
            q = ep.point or p
            if ep.fix:
                f = Fix(
                    q.t,
                    0,
                    round(q.lat * 1e6),
                    round(q.lon * 1e6),
                    None,
                    round(q.speed * 100),
                    None,
                    round(ep.hdop * 40),
                    round(ep.hdop * 100),
                    ep.sats,
                    1,
                    3,
                    0,
                )
            else:
                f = Fix(t, 0, None, None, None, None, None, None, None, 0, 0, 0, 0)
            g.epoch(f)
            if ep.fix:
                got = ff.check(f)
                g.fix(f, got, ff.counts)
            if g.watch:
                g.watch = False
                alarm_until = max(alarm_until, t + I.WATCH_S)
            while (e := g.pop()) is not None:
                out.events.append((t, e[0], e[1]))
                if e[0] < I.K_END:
                    alarm_until = t + ALARM_S
            t += 1
        rx.power(False, t)
        t += ALARM_FIX_S if t < alarm_until else interval
    out.counts = dict(g.counts)
    return out
