"""The same scan stream through the proximity core on CPython and inside MicroPython (64 KB
heap) gives the same decisions, byte for byte: sightings, events with their evidence, scan
schedule and counters. The stream mixes the radio model's encounters and passes with replayed,
skewed, foreign and malformed advertisements and GNSS positions."""

from __future__ import annotations

import math
import random
from pathlib import Path

from micropython_runner import MPY_TESTS, run_cpython, run_micropython
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagkit.beaconwindow import window_blob

DRIVER = MPY_TESTS / "proximity_replay.py"
SECRETS = (b"victim-one-secret", b"victim-two-secret")
T0 = 830_000_000


def make_stream(seed: int, seconds: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    dist = 30.0
    lat0, lon0 = 51_500_000, -120_000
    for t in range(T0, T0 + seconds):
        dist = min(80.0, max(1.0, dist + rng.gauss(0, 2)))
        if t % 20 == 0:
            out.append(f"N {t}")
        if t % 7 == 0:
            out.append(f"V {t} {lat0} {lon0} {rng.randrange(20, 400)}")
            lat = lat0 + int(dist * 9 * 20)  # the GNSS distance follows the walk, x20
            speed = 1100 if (t - T0) // 1800 % 3 == 2 else 120  # a bus ride every 1.5 h
            lon = lon0 + rng.randrange(-50, 50)
            out.append(f"F {t} {lat} {lon} {rng.randrange(20, 200)} {speed}")
        if t % 500 == 0 and rng.random() < 0.3:
            out.append(f"L {t} {rng.randrange(1, 40)}")
        for _ in range(rng.randrange(0, 4)):
            b = rng.randrange(2)
            skew = rng.choice((0, 0, 0, 0, 1, -1, 3, -12, -40))
            k = t // 900 + skew
            rssi = round(-50 - 30 * math.log10(dist) + rng.gauss(0, 8))
            kind = rng.random()
            if kind < 0.7:
                adv = build_adv(beaconid.rolling_id(SECRETS[b], k))
            elif kind < 0.85:
                adv = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
            else:
                adv = bytearray(build_adv(beaconid.rolling_id(SECRETS[b], k)))
                adv[rng.randrange(len(adv))] = rng.randrange(256)
            out.append(f"S {t} {rssi} {bytes(adv).hex()}")
        if t % 3 == 0:
            out.append(f"E {t}")
    return out


def test_cpython_and_micropython_decide_the_same(tmp_path: Path) -> None:
    stream = tmp_path / "stream.txt"
    stream.write_text("\n".join(make_stream(11, 3 * 3600)) + "\n")
    table = tmp_path / "table.bin"
    k0 = T0 // 900
    table.write_bytes(
        b"".join(window_blob(s, b, k0 - 8, 48 * 4 + 16) for b, s in enumerate(SECRETS))
    )
    args = (str(stream), str(table))
    cp = run_cpython(script=DRIVER, args=args)
    mp = run_micropython(script=DRIVER, args=args, heap=64 * 1024)
    assert cp == mp
    # The stream exercised what it should: both beacons, every kind of refusal, alerts.
    assert cp.count("\nev ") >= 6
    for kind in (2, 3, 5, 6, 7, 11):  # near, near exit, GNSS pre, in, exit, flooded
        assert any(ln.split()[2] == str(kind) for ln in cp.splitlines() if ln.startswith("ev "))
    for reason in ("outside_window", "unknown_id", "not_beacon", "sightings", "lost_reports"):
        assert f"'{reason}'" in cp
    assert " 1\n" in cp  # the second beacon was recognised too
    flags = [int(ln.split()[4]) for ln in cp.splitlines() if ln.startswith("ev ")]
    assert any(f & 128 for f in flags) and any(f & 64 for f in flags)  # vehicle, low confidence
