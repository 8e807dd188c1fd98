"""A sample of what `opentag pull` leaves: a walk through an exclusion zone, logged by the
core's own store (`tagcore.store.log`, under CPython on a directory), with the zone as GeoJSON and
the reference track as GPX. The README's picture and the host tools' tests use it.

The walk: 160 fixes every 5 s due east at 1.4 m/s from (50.7300, -1.8600), each fix OFFSET_M
north of the true position (so `replay --truth` must report that error); the zone: a 100 m
circle 300 m east of the start; a coverage gap of GAP_S in the middle; a low-battery event.
"""

from __future__ import annotations

import json
from pathlib import Path

from tagcore import events
from tagcore.fix import Fix
from tagcore.store.log import Store
from tagcore.store.osfs import OsFs

from taghost.units import offset, to_datetime

T0 = 850000000  # seconds since 2000-01-01 UTC (2026-12-07 23:06:40)
LAT0, LON0 = 50.7300, -1.8600
OFFSET_M = 6.0  # on the core's sphere (units.M_PER_DEG), as every host figure
STEP_S = 5
N_FIXES = 160
GAP = (100, 112)  # fixes not logged (indices): a minute without a fix, e.g. indoors
ZONE_ID = 7
NMEA_NOISE_M = 3.0  # the NMEA walk's error, each of north and east: Gaussian, this sigma
NMEA_SEED = 12


def walk(
    n: int = N_FIXES, step_s: int = STEP_S, speed: float = 1.4
) -> list[tuple[int, float, float]]:
    """(t, lat, lon) of the true walk."""
    return [(T0 + k * step_s, *offset(LAT0, LON0, k * step_s * speed, 0)) for k in range(n)]


def zones_geojson() -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "id": ZONE_ID,
                    "name": "Victim's street",
                    "kind": "exclusion",
                    "warning_m": 50,
                    "radius_m": 100,
                },
                "geometry": {"type": "Point", "coordinates": [offset(LAT0, LON0, 300, 0)[1], LAT0]},
            }
        ],
    }


def write_log(dest: Path, gap: bool = True) -> Path:
    """dest/log: the walk's fixes as the tag's store wrote them; returns dest."""
    (dest / "log").mkdir(parents=True)
    s = Store(OsFs(str(dest / "log")), now=T0)
    for k, (t, lat, lon) in enumerate(walk()):
        if gap and GAP[0] <= k < GAP[1]:
            continue
        lat_u = round(offset(lat, lon, 0, OFFSET_M)[0] * 1e6)
        acc = 40 + (k % 7) * 6  # 4-8 m, as a receiver's estimate wanders
        s.append_fix(t, Fix(t, 0, lat_u, round(lon * 1e6), 300, 140, 9000, acc, 80, 9, 1, 3, 0))
    battery = events.LowBattery(T0 + 700, 20)  # the core's codec writes it, as the tag's app does
    kind, data = events.encode(battery)
    s.append_event(kind, battery.t, data)
    s.flush()
    return dest


def _nmea(body: str) -> bytes:
    c = 0
    for ch in body.encode():
        c ^= ch
    return f"${body}*{c:02X}\r\n".encode()


def _dm(v: float, width: int, pos: str, neg: str) -> str:
    a = abs(v)
    deg = int(a)
    return f"{deg:0{width}d}{(a - deg) * 60:08.5f},{pos if v >= 0 else neg}"


def nmea_walk(noise_m: float = NMEA_NOISE_M, seed: int = NMEA_SEED) -> bytes:
    """The walk as a receiver reports it: one epoch (RMC, GGA) a second from T0 to the last
    fix, each position off the true one by Gaussian noise of `noise_m` north and east; the
    coverage gap (GAP) as epochs without a fix."""
    import random

    rnd = random.Random(seed)
    out = bytearray()
    for s in range((N_FIXES - 1) * STEP_S + 1):
        when = to_datetime(T0 + s)
        tm, dt = when.strftime("%H%M%S.00"), when.strftime("%d%m%y")
        if GAP[0] * STEP_S <= s < GAP[1] * STEP_S:
            out += _nmea(f"GPRMC,{tm},V,,,,,,,{dt},,,N") + _nmea(f"GPGGA,{tm},,,,,0,00,99.99,,,,,,")
            continue
        north = rnd.gauss(0, noise_m)  # drawn first, as the sample's seed was laid out
        lat, lon = offset(LAT0, LON0, s * 1.4 + rnd.gauss(0, noise_m), north)
        pos = _dm(lat, 2, "N", "S") + "," + _dm(lon, 3, "E", "W")
        out += _nmea(f"GPRMC,{tm},A,{pos},2.7,90.0,{dt},,,A")
        out += _nmea(f"GPGGA,{tm},{pos},1,09,0.9,52.0,M,47.0,M,,")
    return bytes(out)


def write_truth(path: Path) -> Path:
    import gpxpy.gpx

    g = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack(name="phone")
    seg = gpxpy.gpx.GPXTrackSegment()
    for t, lat, lon in walk():
        when = to_datetime(t)
        seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, lon, time=when))
    trk.segments.append(seg)
    g.tracks.append(trk)
    path.write_text(g.to_xml())
    return path


def write_sample(dest: Path) -> dict[str, Path]:
    """The whole sample: dest/log, dest/prov/zones.bin, dest/zones.geojson, dest/phone.gpx."""
    from datetime import date

    from taghost.zoneconfig import compile_blob, read_file  # as `opentag zones compile`

    write_log(dest)
    zones = dest / "zones.geojson"
    zones.write_text(json.dumps(zones_geojson(), indent=1))
    (dest / "prov").mkdir()
    (dest / "prov" / "zones.bin").write_bytes(compile_blob(read_file(zones), date(2026, 12, 1)))
    return {"log": dest / "log", "zones": zones, "truth": write_truth(dest / "phone.gpx")}
