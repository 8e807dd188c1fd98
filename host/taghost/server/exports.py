"""Exports of one tag's fixes over a time range: GeoJSON, GPX (gpxpy) and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import gpxpy.gpx

from taghost.server.api import FIX_FIELDS
from taghost.units import to_datetime

FORMATS = {
    "geojson": "application/geo+json",
    "gpx": "application/gpx+xml",
    "csv": "text/csv",
}


def geojson(tag: str, fixes: list[dict[str, Any]]) -> str:
    """A FeatureCollection: one Point per fix (RFC 7946: lon, lat order)."""
    feats = []
    for f in fixes:
        coords = [f["lon_deg"], f["lat_deg"]]
        if f["alt_dm"] is not None:
            coords.append(f["alt_dm"] / 10)
        props = {k: v for k, v in f.items() if k not in ("lat_deg", "lon_deg")}
        props["tag"] = tag
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": coords},
                "properties": props,
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": feats}, indent=1)


def gpx(tag: str, fixes: list[dict[str, Any]]) -> str:
    g = gpxpy.gpx.GPX()
    g.creator = "opentag server"
    trk = gpxpy.gpx.GPXTrack(name=f"tag {tag}")
    seg = gpxpy.gpx.GPXTrackSegment()
    for f in fixes:
        p = gpxpy.gpx.GPXTrackPoint(
            latitude=f["lat_deg"],
            longitude=f["lon_deg"],
            elevation=None if f["alt_dm"] is None else f["alt_dm"] / 10,
            time=to_datetime(f["t"] + f["ms"] / 1000),
        )
        if f["hdop_c"] is not None:
            p.horizontal_dilution = f["hdop_c"] / 100
        if f["sats"]:
            p.satellites = f["sats"]
        if f["speed_cms"] is not None:
            p.speed = f["speed_cms"] / 100
        p.comment = f"seq {f['seq']}"
        seg.points.append(p)
    trk.segments.append(seg)
    g.tracks.append(trk)
    return str(g.to_xml())


CSV_COLUMNS = ["tag", "seq", "time", "lat_deg", "lon_deg", *FIX_FIELDS, "received"]


def csv_text(tag: str, fixes: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in fixes:
        w.writerow([tag if c == "tag" else ("" if f[c] is None else f[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def export(fmt: str, tag: str, fixes: list[dict[str, Any]]) -> str:
    if fmt == "geojson":
        return geojson(tag, fixes)
    if fmt == "gpx":
        return gpx(tag, fixes)
    if fmt == "csv":
        return csv_text(tag, fixes)
    raise ValueError(f"unknown export format {fmt!r} ({', '.join(FORMATS)})")
