"""The same zone blob and fix stream through the monitor on CPython and inside MicroPython
(64 KB heap, .mpy): the same alerts, store events, states and sampling hints, line for line."""

from __future__ import annotations

import math
import random
from datetime import date
from pathlib import Path

import pytest
from micropython_runner import MPY_TESTS, run_cpython, run_micropython
from tagcore.fix import Fix
from tagcore.geo import cos_q15
from tagcore.store import record as R
from taghost.units import EPOCH_2000, M_PER_DEG, seconds_2000
from taghost.zoneconfig import compile_blob, read_file

DRIVER = MPY_TESTS / "zones_replay.py"
EXAMPLE = Path(__file__).resolve().parent.parent / "host/taghost/examples/zones-bournemouth.geojson"
START = date(2026, 10, 19)  # the horizon spans the autumn DST change
LAT0, LON0 = 50726000, -1879500  # home in the example file


def stream(seed: int, hours: int) -> str:
    """A wearer wandering around the example's zones (home, town centre, school, route) with
    correlated noise, multipath jumps, poor fixes, duplicates and coverage gaps."""
    rng = random.Random(seed)
    t = seconds_2000(EPOCH_2000.replace(year=2026, month=10, day=23)) + rng.randrange(86400)
    x = y = 0.0
    ex = ey = 0.0
    lines = []
    dlon = 1e6 / (M_PER_DEG * cos_q15(LAT0) / 32768)
    end = t + hours * 3600
    # Home, into and out of the town centre, past the school, along the route to work.
    places = [(0, 0), (2400, 1300), (1800, 800), (1300, 400), (-900, 1200), (-700, 1500)]
    places.append((-1800, -900))
    goal, speed, heading, dwell = (0, 0), 1.3, 0.0, 0
    while t < end:
        dt = rng.choice((15, 15, 30, 60))
        if math.hypot(goal[0] - x, goal[1] - y) < 30:
            if dwell <= 0:  # arrived: stay a while, then go somewhere else
                dwell = rng.randrange(0, 1800)
                goal = rng.choice(places)
                speed = rng.choice((1.3, 1.3, 8.0))
            dwell -= dt
            step = 0.0
        else:
            heading = math.degrees(math.atan2(goal[0] - x, goal[1] - y)) % 360
            step = speed
        x += step * dt * math.sin(math.radians(heading))
        y += step * dt * math.cos(math.radians(heading))
        ex = 0.7 * ex + rng.gauss(0, 4)
        ey = 0.7 * ey + rng.gauss(0, 4)
        jx = rng.choice((0, 0, 0, 0, 0, 0, 0, 0, 0, 60))
        t += dt
        if rng.random() < 0.01:  # no fix: indoors, a tunnel
            for k in range(rng.randrange(1, 100)):
                lines.append(f"N {t + 15 * k}")
            t += 15 * 100
            continue
        lat = LAT0 + round((y + ey + jx) / M_PER_DEG * 1e6)
        lon = LON0 + round((x + ex) * dlon)
        acc = rng.choice((40, 50, 60, 120, 300, 1200)) if rng.random() < 0.9 else "-"
        v = round(step * 100 + abs(rng.gauss(0, 10)))
        c = round(heading * 100) % 36000
        lines.append(f"F {t} {lat} {lon} {acc} {v if rng.random() < 0.9 else '-'} {c}")
        if rng.random() < 0.02:
            lines.append(lines[-1])  # a repeated fix: time does not advance
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def blob_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("zones") / "zones.bin"
    p.write_bytes(compile_blob(read_file(EXAMPLE), START, 4))
    return p


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_runtimes_decide_the_same(blob_file: Path, tmp_path: Path, seed: int) -> None:
    s = tmp_path / "stream.txt"
    s.write_text(stream(seed, 30))
    args = (str(blob_file), str(s))
    mp = run_micropython(script=DRIVER, args=args, heap=64 * 1024)
    cp = run_cpython(script=DRIVER, args=args)
    assert mp.startswith("E None 4\n")
    assert mp.count("\nS ") > 1000
    kinds = {ln.split()[1] for ln in mp.splitlines() if ln.startswith("A ")}
    # Breaches, their ends, approach warnings, and location lost, warned and back.
    assert {"1", "2", "3", "4", "5", "6"} <= kinds
    assert mp == cp


def test_alerts_survive_the_real_store_and_a_reboot(blob_file: Path) -> None:
    # The alerts of a wander go into the flash log as the device stores them; a new Store on
    # the same files (a reboot) reads them back and they decode to the same alerts.
    from tagcore.events import decode, encode
    from tagcore.store.log import Store
    from tagcore.zones.monitor import STORED_ALERTS, ZoneMonitor
    from test_store import MemFs

    fs = MemFs()
    st = Store(fs, now=0)
    m = ZoneMonitor(blob_file.read_bytes())
    kept = []
    for line in stream(1, 30).splitlines():
        p = line.split()
        t = int(p[1])
        if p[0] == "N":
            alerts = m.on_no_fix(t)
        else:
            num = [None if v == "-" else int(v) for v in p[2:]]
            fix = Fix(t, 0, num[0], num[1], 0, num[3], num[4], num[2], 100, 8, 1, 3, 0)
            alerts = m.on_fix(t, fix)
        for a in alerts:
            if a.kind in STORED_ALERTS:
                ev = encode(a)
                st.append_event(ev[0], a.t, ev[1])
                kept.append(a)
    assert len(kept) >= 8
    back = [
        decode(kind, v[0], v[1])
        for _, kind, v in Store(fs, now=1).read(1, limit=10_000)[0]
        if kind != R.EV_BOOT
    ]
    assert back == kept
