"""`opentag replay` of a pulled log: the alerts the current core raises with the tag's zones,
and `--truth FILE.gpx` error figures against a reference track whose offset is known."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime, timezone
from pathlib import Path

import gpxpy.gpx
import pytest
from tagcore import record as R
from tagcore.fix import Fix
from tagcore.store import OsFs, Store
from vboardkit import opentag

T0 = 850000000  # seconds since 2000 (2026-12-08)
LAT0, LON0 = 50.7300, -1.8600  # the walk's start; the zone sits 300 m east on the same line
ZONE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "id": 7,
                "name": "Victim's street",
                "kind": "exclusion",
                "warning_m": 50,
                "radius_m": 100,
            },
            "geometry": {"type": "Point", "coordinates": [LON0 + 300 / 70500, LAT0]},
        }
    ],
}
M_PER_DEG_LAT = 111_200.0
OFFSET_M = 6.0  # the tag's fixes sit this far north of the truth


def walk(n: int = 160, step_s: int = 5, speed: float = 1.4) -> list[tuple[int, float, float]]:
    """(t, lat, lon) of a walk due east at `speed` m/s."""
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
    return [(T0 + k * step_s, LAT0, LON0 + k * step_s * speed / m_per_deg_lon) for k in range(n)]


def pulled_log(dest: Path) -> Path:
    """A log written by the core's own store (as `opentag pull` leaves it): the walk's fixes,
    OFFSET_M north of the truth."""
    (dest / "log").mkdir(parents=True)
    s = Store(OsFs(str(dest / "log")), now=T0)
    for t, lat, lon in walk():
        lat_u = round((lat + OFFSET_M / M_PER_DEG_LAT) * 1e6)
        s.append_fix(Fix(t, 0, lat_u, round(lon * 1e6), 300, 140, 9000, 40, 80, 9, 1, 3, 0), t)
    s.append_event(R.EV_LOW_BATTERY, T0 + 900, bytes((20,)))
    s.flush()
    return dest


def truth_gpx(path: Path) -> Path:
    g = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack()
    seg = gpxpy.gpx.GPXTrackSegment()
    for t, lat, lon in walk():
        when = datetime.fromtimestamp(946684800 + t, timezone.utc)
        seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, lon, time=when))
    trk.segments.append(seg)
    g.tracks.append(trk)
    path.write_text(g.to_xml())
    return path


@pytest.fixture
def pulled(tmp_path: Path) -> Path:
    d = pulled_log(tmp_path / "pulled")
    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps(ZONE))
    (d / "prov").mkdir()
    r = opentag(
        "zones",
        "compile",
        str(zones),
        "--out",
        str(d / "prov" / "zones.bin"),
        "--start",
        "2026-12-01",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return d


def test_replay_pulled_log_raises_the_breach(pulled: Path) -> None:
    r = opentag("replay", str(pulled), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["fixes"] == 160
    kinds = [(a["alert"], a["zone"]) for a in doc["alerts"] if a["stored"]]
    assert kinds == [("breach", 7), ("breach_end", 7)], doc["alerts"]
    breach = next(a for a in doc["alerts"] if a["alert"] == "breach")
    # the walk enters the 100 m circle 200 m from the start (at 143 s): confirmed after it
    assert T0 + 143 <= breach["t"] <= T0 + 143 + 60
    text = opentag("replay", str(pulled))
    assert "alerts the current core raises: " in text.stdout and "breach" in text.stdout
    assert "alerts the tag logged: 0" in text.stdout


def test_replay_truth_error_figures(pulled: Path, tmp_path: Path) -> None:
    truth = truth_gpx(tmp_path / "phone.gpx")
    r = opentag("replay", str(pulled), "--truth", str(truth), "--json")
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)["truth"]
    assert t["scored"] == 160 and t["not_scored"] == 0
    for k in ("median_m", "p95_m", "max_m"):
        assert abs(t[k] - OFFSET_M) < 0.05, t  # 1 microdegree rounding is 0.11 m at most
    r = opentag("replay", str(pulled), "--truth", str(truth))
    assert f"error median {t['median_m']} m, p95 {t['p95_m']} m" in r.stdout


def test_replay_nmea_capture_with_truth_and_zones(tmp_path: Path) -> None:
    # an NMEA capture's accepted fixes go through the same scoring (the corpus demo capture)
    r = opentag("replay", "--json", "--truth", str(truth_gpx(tmp_path / "t.gpx")))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["truth"]["scored"] == 0 and doc["truth"]["not_scored"] > 0  # another place/time


def test_replay_user_errors(pulled: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gpx"
    bad.write_text("not xml")
    r = opentag("replay", str(pulled), "--truth", str(bad))
    assert r.returncode == 2 and "not a GPX file" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = opentag("replay", str(empty))
    assert r.returncode == 2 and "no log segments" in r.stderr
    (pulled / "prov" / "zones.bin").write_bytes(b"\x00" * 40)
    r = opentag("replay", str(pulled))
    assert r.returncode == 2 and "zone blob is refused" in r.stderr
    shutil.rmtree(pulled / "prov")
    r = opentag("replay", str(pulled))
    assert r.returncode == 0 and "give --zones FILE" in r.stdout
