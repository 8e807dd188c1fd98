"""Warnings about a zone file that compiles but may not mean what the officer thinks.

Each is a sentence naming the zone: legacy or inverted time zones (`EST` is UTC-5 all year,
`Etc/GMT+1` is UTC-1), a zone whose longitude is hours away from its schedule's time zone
(latitude and longitude swapped), an exclusion zone overlapping an inclusion zone (the curfew
home), a night the clock change leaves without a window, and each zone's own notes (too small
for indoor accuracy) and the file's (`crs`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import LineString, Point, Polygon
from tagcore.zones import blob as B

from taghost.zoneconfig import ZoneSpec, local_m
from taghost.zoneschedule import DAY_NAMES, skipped

# Solar time and standard time differ by up to ~2.5 h in real time zones (Spain 1.3 h,
# western China 3 h: that one gets the question); a zone further than this from its time
# zone's standard offset is suspicious...
MISMATCH_H = 2.5
# ... and reads as swapped when [lat, lon] taken the other way round fits within this.
SWAP_FIT_H = 1.5


def _offsets_h(tz: ZoneInfo, year: int) -> list[float]:
    out = []
    for month in (1, 7):
        off = datetime(year, month, 1, 12, tzinfo=tz).utcoffset() or timedelta()
        out.append(off.total_seconds() / 3600)
    return out


def _gap_h(lon: float, offsets: list[float]) -> float:
    """Hours between the longitude's solar time and the time zone's standard offset."""
    return abs((lon / 15 - min(offsets) + 12) % 24 - 12)


def _tz_notes(z: ZoneSpec, start: date) -> list[str]:
    assert z.schedule is not None
    tz = z.schedule.tz
    key = tz.key
    offs = _offsets_h(tz, start.year)
    out = []
    if key.startswith("Etc/GMT") and key[7:8] in "+-" and key[8:]:
        real = offs[0]
        out.append(
            f"{z.label()}: time zone {key} means UTC{real:+03.0f}:00 (POSIX inverts the sign "
            "of Etc/GMT names); use a place name, such as Europe/London"
        )
    elif "/" not in key and key not in ("UTC", "GMT", "UCT", "Zulu", "Universal"):
        fixed = offs[0] == offs[1]
        what = f"a fixed UTC{offs[0]:+03.0f}:00 offset all year" if fixed else "legacy rules"
        out.append(
            f"{z.label()}: time zone {key} is {what}, not a place: curfews follow local clocks, "
            "so use the place's IANA name (America/New_York, Europe/Paris, ...)"
        )
    lat, lon = z.anchor[0] / 1e6, z.anchor[1] / 1e6
    gap = _gap_h(lon, offs)
    if gap > MISMATCH_H:
        if _gap_h(lat, offs) <= SWAP_FIT_H and abs(lon) <= 90:
            out.append(
                f"{z.label()}: its position [{lon:.5f}, {lat:.5f}] is {gap:.1f} h from time "
                f"zone {key}, and [{lat:.5f}, {lon:.5f}] would fit it: latitude and longitude "
                "swapped? (GeoJSON positions are [longitude, latitude])"
            )
        else:
            out.append(
                f"{z.label()}: its position (longitude {lon:.4f}) is {gap:.1f} h from time "
                f"zone {key}: is that the zone's time zone?"
            )
    return out


def _shape(z: ZoneSpec, anchor: tuple[int, int]):
    if z.shape == B.SHAPE_CIRCLE:
        return Point(local_m(anchor, [z.anchor])[0]).buffer(z.radius_dm / 10, 32)
    if z.shape == B.SHAPE_CORRIDOR:
        return LineString(local_m(anchor, z.rings[0])).buffer(z.radius_dm / 10, 16)
    return Polygon(local_m(anchor, z.rings[0]), [local_m(anchor, r) for r in z.rings[1:]])


def _near(a: ZoneSpec, b: ZoneSpec) -> bool:
    # Cheap: anchors within 60 km (every zone lies within 25 km of its anchor).
    dlat = abs(a.anchor[0] - b.anchor[0]) / 1e6 * 111
    return dlat < 60 and abs(a.anchor[1] - b.anchor[1]) / 1e6 * 111 * 0.17 < 60


def _overlaps(zones: list[ZoneSpec]) -> list[str]:
    out = []
    homes = [z for z in zones if z.kind == B.KIND_INCLUSION]
    for h in homes:
        hs = _shape(h, h.anchor)
        for x in zones:
            if x.kind != B.KIND_EXCLUSION or not _near(h, x):
                continue
            xs = _shape(x, h.anchor)
            if hs.intersects(xs):
                share = hs.intersection(xs).area / max(hs.area, 1e-9)
                out.append(
                    f"{x.label()} (exclusion) overlaps {h.label()} (inclusion) over "
                    f"{100 * share:.0f} % of it: there the wearer is in breach of one or the "
                    "other whenever both apply"
                )
    return out


def _skipped(z: ZoneSpec, start: date, weeks: int) -> list[str]:
    assert z.schedule is not None
    out = []
    for day, i in skipped(z.schedule, start, weeks):
        r = z.schedule.rules[i]
        out.append(
            f"{z.label()}: rule {i} ({DAY_NAMES[day.weekday()]} {r.start:%H:%M}-{r.end:%H:%M}) "
            f"does not exist on {day.isoformat()} in {z.schedule.tz.key} (the clocks go "
            "forward through it): no window that night"
        )
    return out


def warnings(zones: list[ZoneSpec], start: date, weeks: int) -> list[str]:
    out = list(getattr(zones, "warnings", []))
    for z in zones:
        out.extend(z.warnings)
        if z.schedule is not None:
            out.extend(_tz_notes(z, start))
            out.extend(_skipped(z, start, weeks))
    out.extend(_overlaps(zones))
    return out
