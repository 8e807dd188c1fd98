"""A run's files: metrics JSON, event log JSONL, trail + zones as GeoJSON and GPX, HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gpxpy.gpx

from tagsim import report
from tagsim import taglines as L
from tagsim.engine import Run
from tagsim.simtime import iso, to_datetime

MAX_TRAIL_POINTS = 4000


def truth_trail(run: Run) -> list[tuple[int, float, float]]:
    """The truth trajectory, sampled evenly to at most MAX_TRAIL_POINTS points."""
    t0, t1 = run.scenario.start, max(run.log.end, run.scenario.start + 1)
    step = max(1, (t1 - t0) // MAX_TRAIL_POINTS)
    return [(p.t, p.lat, p.lon) for p in run.truth.samples(t0, t1, step)]


def fixes(run: Run) -> list[dict[str, Any]]:
    out = []
    for _, f in L.records(run.log.tag_lines, L.FixStored):
        out.append(
            {
                "t": f.t,
                "lat": f.lat / 1e6,
                "lon": f.lon / 1e6,
                "acc_m": None if f.acc_dm is None else f.acc_dm / 10,
                "sats": f.sats,
                "seq": f.seq,
            }
        )
    return out


def alerts(run: Run) -> list[dict[str, Any]]:
    """Alerts the tag raised, placed at the wearer's reported position before the alert."""
    out = []
    last = None
    alerting = (L.ZoneAlert, L.ProximityEvent, L.Tamper, L.LocLost, L.LowBattery)
    for t, ln in run.log.tag_lines:
        r = L.parse(ln)
        if type(r) is L.FixStored:
            last = (r.lat / 1e6, r.lon / 1e6)
        elif type(r) in alerting:
            p = last or (run.truth.at(t).lat, run.truth.at(t).lon)
            fields = ln.split()[2:]
            row = {"t": t, "kind": L.code(r), "fields": fields, "lat": p[0], "lon": p[1]}
            out.append({**row, "record": r})  # the named record, for the report
    return out


def event_log(run: Run) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for t, ln in run.log.tag_lines:
        f = ln.split()
        rows.append({"t": t, "iso": iso(t), "src": "tag", "ev": f[0], "fields": f[2:]})
    for w in run.log.world:
        rows.append({"iso": iso(w["t"]), "src": "world", **w})
    rows.sort(key=lambda r: r["t"])  # stable: tag events stay in order
    return rows


def geojson(run: Run) -> dict[str, Any]:
    trail = truth_trail(run)
    feats: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "properties": {"role": "truth"},
            "geometry": {"type": "LineString", "coordinates": [[lo, la] for _, la, lo in trail]},
        },
    ]
    for f in fixes(run):
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "fix",
                    "time": iso(f["t"]),
                    "acc_m": f["acc_m"],
                    "sats": f["sats"],
                    "seq": f["seq"],
                },
                "geometry": {"type": "Point", "coordinates": [f["lon"], f["lat"]]},
            }
        )
    for a in alerts(run):
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "role": "alert",
                    "kind": a["kind"],
                    "time": iso(a["t"]),
                    "fields": a["fields"],
                },
                "geometry": {"type": "Point", "coordinates": [a["lon"], a["lat"]]},
            }
        )
    for z in (run.scenario.zones_geojson or {}).get("features", []):
        feats.append({**z, "properties": {**(z.get("properties") or {}), "role": "zone"}})
    return {"type": "FeatureCollection", "features": feats}


def gpx(run: Run) -> str:
    g = gpxpy.gpx.GPX()
    g.creator = "opentag simulator"
    for name, pts in (
        ("truth", [(t, la, lo) for t, la, lo in truth_trail(run)]),
        ("fixes", [(f["t"], f["lat"], f["lon"]) for f in fixes(run)]),
    ):
        trk = gpxpy.gpx.GPXTrack(name=name)
        seg = gpxpy.gpx.GPXTrackSegment()
        seg.points = [gpxpy.gpx.GPXTrackPoint(la, lo, time=to_datetime(t)) for t, la, lo in pts]
        trk.segments.append(seg)
        g.tracks.append(trk)
    return g.to_xml()


def write(
    run: Run, metrics: dict[str, Any], checks: list[dict[str, Any]], out: Path
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        k: out / n
        for k, n in (
            ("metrics", "metrics.json"),
            ("events", "events.jsonl"),
            ("geojson", "trail.geojson"),
            ("gpx", "trail.gpx"),
            ("report", "report.html"),
        )
    }
    doc = {
        "metrics": metrics,
        "expectations": checks,
        "verdict": "red" if any(c["status"] == "fail" for c in checks) else "green",
    }
    paths["metrics"].write_text(json.dumps(doc, indent=1) + "\n")
    with paths["events"].open("w") as fh:
        for row in event_log(run):
            fh.write(json.dumps(row) + "\n")
    paths["geojson"].write_text(json.dumps(geojson(run)) + "\n")
    paths["gpx"].write_text(gpx(run))
    paths["report"].write_text(
        report.render(run, metrics, checks, truth_trail(run), fixes(run), alerts(run))
    )
    return paths
