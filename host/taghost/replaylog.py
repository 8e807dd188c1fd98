"""`opentag replay` of a pulled log, the alerts the current core raises on fixes, and the error
of fixes against a reference track (`--truth FILE.gpx`, e.g. a phone's GPX of the same walk).

- A pulled log is a directory written by `opentag pull` (its `log/` segments, or the segments
  themselves); its fixes are decoded by the core's own record decoder (taghost.pull).
- Alerts: the fixes in time order through the current `tagcore.zones.monitor.ZoneMonitor` with the
  zone blob the tag had (`prov/zones.bin` beside a pull, or `--zones`), `now` = each fix's time.
  Only fixes go in: gaps in a log do not say whether the tag was awake and searching, so the
  loss-of-location rule (`on_no_fix`) is not replayed.
- Truth: each fix against the reference position at the fix's time, linearly interpolated
  between the two reference points around it (fixes outside the reference's time span, or in a
  gap longer than MAX_TRUTH_GAP_S, are not scored and are counted). Distance: pyproj's WGS84
  geodesic. Median, p95 (nearest rank) and max in metres.
"""

from __future__ import annotations

import bisect
import math
from datetime import timezone
from pathlib import Path
from typing import Any

from tagcore.fix import Fix

from taghost.errors import UserError
from taghost.units import UNIX_2000

MAX_TRUTH_GAP_S = 30  # reference points further apart than this are not interpolated across


def pulled_log_dir(path: Path) -> Path:
    """The directory holding a pull's segments: path/log, or path itself."""
    from taghost.pull import is_segment

    for d in (path / "log", path):
        if d.is_dir() and any(is_segment(p.name) for p in d.iterdir()):
            return d
    raise UserError(f"{path}: no log segments (s00000001 ...) in it or in its log/")


def pulled_fixes(path: Path) -> tuple[list[Fix], list[dict[str, Any]], dict[str, int]]:
    """(fixes in time order, logged events, decode stats) of a pulled log."""
    from taghost.pull import decode_dir

    doc = decode_dir(pulled_log_dir(path))
    fixes = [Fix(*(d[k] for k in Fix._fields)) for d in doc["fixes"]]
    return fixes, doc["events"], doc["stats"]


def zone_alerts(fixes: list[Fix], blob: bytes) -> list[dict[str, Any]]:
    """The alerts the current core raises on these fixes with this zone blob."""
    from tagcore.zones import monitor as Z

    from taghost.alertkinds import ZONE_ALERTS
    from taghost.server.api import iso

    m = Z.ZoneMonitor(blob)
    if m.error:
        raise UserError(f"the zone blob is refused by the core: {m.error}")
    out = []
    for f in fixes:
        for a in m.on_fix(f.t, f):
            name = ZONE_ALERTS.get(a.kind)
            out.append(
                {
                    "t": a.t,
                    "time": iso(a.t),
                    "alert": name or f"kind{a.kind}",
                    "zone": a.zone,
                    "rule": a.rule,
                    "stored": a.kind in Z.STORED_ALERTS,
                }
            )
    return out


def read_truth(path: Path) -> list[tuple[float, float, float]]:
    """[(unix time, lat, lon)] of a GPX's track (or route/waypoint) points that have times."""
    import gpxpy
    import gpxpy.gpx

    try:
        g = gpxpy.parse(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"--truth {path}: cannot read: {e}") from None
    except gpxpy.gpx.GPXException as e:  # what gpxpy raises for bad XML and bad points
        raise UserError(f"--truth {path}: not a GPX file: {e}") from None
    pts = []
    for p in _gpx_points(g):
        if p.time is None:
            continue
        t = p.time if p.time.tzinfo else p.time.replace(tzinfo=timezone.utc)
        pts.append((t.timestamp(), p.latitude, p.longitude))
    if len(pts) < 2:
        raise UserError(f"--truth {path}: fewer than two timed points")
    pts.sort()
    return pts


def _gpx_points(g: Any) -> list[Any]:
    pts = [p for trk in g.tracks for seg in trk.segments for p in seg.points]
    return pts or [p for r in g.routes for p in r.points] or list(g.waypoints)


def truth_errors(fixes: list[Fix], truth: list[tuple[float, float, float]]) -> dict[str, Any]:
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    times = [p[0] for p in truth]
    errs = []
    outside = 0
    for f in fixes:
        t = UNIX_2000 + f.t + f.ms / 1000
        j = bisect.bisect_left(times, t)
        if j == 0 and times[0] == t:
            j = 1
        if j <= 0 or j >= len(times):
            outside += 1
            continue
        (t0, la0, lo0), (t1, la1, lo1) = truth[j - 1], truth[j]
        if t1 - t0 > MAX_TRUTH_GAP_S:
            outside += 1
            continue
        w = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        lat, lon = la0 + w * (la1 - la0), lo0 + w * (lo1 - lo0)
        _, _, d = geod.inv(lon, lat, f.lon / 1e6, f.lat / 1e6)
        errs.append(d)
    errs.sort()

    def rank(q: float) -> float | None:
        if not errs:
            return None
        return round(errs[max(0, math.ceil(q * len(errs)) - 1)], 2)

    return {
        "scored": len(errs),
        "not_scored": outside,
        "median_m": rank(0.5),
        "p95_m": rank(0.95),
        "max_m": round(errs[-1], 2) if errs else None,
    }


def truth_text(t: dict[str, Any], source: str) -> str:
    if not t["scored"]:
        return f"against {source}: no fix fell within the reference's time span"
    return (
        f"against {source}: {t['scored']} fixes scored ({t['not_scored']} outside its time "
        f"span): error median {t['median_m']} m, p95 {t['p95_m']} m, max {t['max_m']} m"
    )
