"""GeoJSON zones to the tag's zone blob: read, validate, compile.

A FeatureCollection whose features are zones:
  - Polygon (holes allowed) or MultiPolygon (each part becomes its own zone, same id)
  - Point with a `radius_m` property: a circle
  - LineString with a `width_m` property: a corridor (within width_m / 2 of the line)
Properties: `id` (1-65535, unique), `name`, `kind` ("exclusion" | "inclusion"), `warning_m`
(approach ring, default 50), `schedule` (see taghost.zoneschedule; none = always active).
An inclusion zone's ring lies inside it, and the tag tests the fix's accuracy circle against
it: by default it stops INDOOR_ACC_M + 10 m short of the zone's deepest point (its inner radius),
so a wearer indoors in the middle of a small home is not "approaching" all night (sampling every
15 s); a `warning_m` that reaches the deepest point is refused.

Every problem is reported with the zone it belongs to; nothing is compiled while any remain.
Geometry is checked in the same local frame the tag uses (tagcore.geo around the zone's
anchor), with shapely as the validity oracle.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import polylabel
from shapely.validation import explain_validity
from tagcore.geo import lon_delta, project
from tagcore.zones import blob as B
from tagcore.zones.monitor import DEFAULT_MAX_ACC_DM, ZoneMonitor, decision_grow_dm
from tagkit import zonewrite as W
from tagkit.zonewrite import frame

from taghost.units import M_PER_DEG, offset
from taghost.zoneschedule import Schedule, parse_schedule

KINDS = {"exclusion": B.KIND_EXCLUSION, "inclusion": B.KIND_INCLUSION}
SHAPE_NAMES = {B.SHAPE_CIRCLE: "circle", B.SHAPE_POLYGON: "polygon", B.SHAPE_CORRIDOR: "corridor"}
MAX_LAT_DEG = B.MAX_LAT / 1e6
MIN_RADIUS_M, MAX_RADIUS_M = 5, B.MAX_RADIUS_DM // 10
MIN_WIDTH_M, MAX_WIDTH_M = 4, 2000
DEFAULT_WARNING_M = 50
INDOOR_ACC_M = 30  # indoor fixes are good to about 30 m (shared/reference/requirements.md)
# A zone's deepest point must be this far from its edge: the tag ends a breach on fixes whose
# centre is the hysteresis (10 m) inside the edge, so a smaller zone can never end one...
MIN_INNER_M = _HYST_M = 10
# ... and below this the tag decides there only slowly at indoor accuracy: confirming needs
# the centre inside by half the accuracy (15 m), a return home the centre 10 m inside.
WARN_INNER_M = INDOOR_ACC_M // 2 + 5
MIN_AREA_M2 = 1.0
# What the tag grows each zone's box by beyond its ring, with the default rules (and 10 m).
DECISION_RANGE_M = decision_grow_dm(W.DEFAULT_RULES, DEFAULT_MAX_ACC_DM) / 10 + 10

Ring = list[tuple[int, int]]  # (lat, lon) microdegrees


class ZoneConfigError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ZoneFileError(ZoneConfigError):
    """The file itself could not be read (missing, a directory, not UTF-8 text)."""


@dataclass
class ZoneSpec:
    id: int
    name: str
    kind: int
    shape: int
    warning_m: int
    anchor: tuple[int, int]
    radius_dm: int  # circle radius or corridor half-width
    rings: list[Ring]
    schedule: Schedule | None
    area_m2: float
    inner_m: float = 0.0  # the deepest point's distance from the edge
    warnings: list[str] = field(default_factory=list)  # compiled anyway, but worth a look

    def label(self) -> str:
        return f"zone {self.id} {self.name!r}" if self.name else f"zone {self.id}"


def udeg(v: float) -> int:
    return round(v * 1e6)


def _position(p: object, where: str) -> tuple[int, int]:
    if not isinstance(p, list | tuple) or len(p) < 2:
        raise ValueError(f"{where}: a position must be [lon, lat]")
    lon, lat = p[0], p[1]
    ok = (isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat))
    if not all(ok) or not all(math.isfinite(v) for v in (lon, lat)):
        raise ValueError(f"{where}: coordinates must be finite numbers")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        swapped = ""
        if -180 <= lat <= 180 and -90 <= lon <= 90:
            swapped = f" (swapped? GeoJSON positions are [longitude, latitude]: [{lat}, {lon}])"
        raise ValueError(f"{where}: [{lon}, {lat}] is not a longitude, latitude{swapped}")
    return udeg(lat), udeg(lon)


def _ring(coords: object, where: str, closed: bool) -> Ring:
    if not isinstance(coords, list):
        raise ValueError(f"{where}: expected a list of positions")
    pts = [_position(p, where) for p in coords]
    if closed:
        if len(pts) >= 2 and pts[0] != pts[-1]:
            raise ValueError(f"{where}: ring is not closed (first and last positions differ)")
        pts = pts[:-1]
    out: Ring = []
    for p in pts:  # drop repeated consecutive positions (common in hand-drawn files)
        if not out or out[-1] != p:
            out.append(p)
    if closed and len(out) > 1 and out[0] == out[-1]:
        out.pop()
    need = 3 if closed else 2
    if len(out) < need:
        raise ValueError(f"{where}: fewer than {need} distinct points")
    if len(out) > B.MAX_POINTS:
        raise ValueError(
            f"{where}: {len(out)} points; the tag takes at most {B.MAX_POINTS} per ring "
            "(simplify it or split the zone)"
        )
    return out


def _record_bytes(rings: list[Ring], nwin: int) -> int:
    """The size of the zone's record in the blob (it must fit its u16 length field)."""
    return B.REC_LEN + 8 * nwin + sum(2 + 8 * len(r) for r in rings)


def _check_record(rings: list[Ring], where: str) -> None:
    n = _record_bytes(rings, 0)
    if n > 0xFFFF:
        total = sum(len(r) for r in rings)
        raise ValueError(
            f"{where}: {total} vertices in all its rings; the tag's record holds at most "
            f"{(0xFFFF - B.REC_LEN - 2 * len(rings)) // 8} (simplify it or split the zone)"
        )


def _check_lat_lon(rings: list[Ring], where: str, closed: bool = True) -> None:
    for ring in rings:
        for lat, _ in ring:
            if abs(lat) > B.MAX_LAT:
                raise ValueError(
                    f"{where}: reaches {lat / 1e6:.4f} deg latitude, too near a pole "
                    f"(the tag's local frame needs |lat| <= {MAX_LAT_DEG:g} deg)"
                )
        nxt = ring[1:] + ring[:1] if closed else ring[1:]
        for (_, a), (_, b) in zip(ring, nxt, strict=False):
            if abs(a - b) > 180_000_000:
                raise ValueError(
                    f"{where}: crosses the antimeridian (180 deg); split it into one zone "
                    "on each side"
                )


def _check_antimeridian_gap(z: ZoneSpec, where: str) -> None:
    """The tag's bounding-box prefilter compares raw longitudes, so a zone grown by its
    warning ring and decision range (and radius or half-width) must stay clear of 180 deg,
    or fixes just across it would go unseen."""
    reach = z.warning_m + DECISION_RANGE_M + z.radius_dm / 10
    pts = [p for r in z.rings for p in r] or [z.anchor]
    for lat, lon in pts:
        if abs(lon / 1e6) + reach / (M_PER_DEG * math.cos(math.radians(lat / 1e6))) > 180:
            raise ValueError(
                f"{where}: within {reach / 1000:.1f} km (radius, warning ring and decision "
                "range) of the antimeridian (180 deg); the tag cannot watch it there"
            )


def _anchor(rings: list[Ring]) -> tuple[int, int]:
    lats = [p[0] for r in rings for p in r]
    lons = [p[1] for r in rings for p in r]
    return (min(lats) + max(lats)) // 2, (min(lons) + max(lons)) // 2


def local_m(anchor: tuple[int, int], ring: Ring) -> list[tuple[float, float]]:
    """The ring in the tag's local frame around `anchor`, in metres (x east, y north)."""
    fr = frame(anchor[0])
    out = []
    for lat, lon in ring:
        x, y = project(fr, lat - anchor[0], lon_delta(lon, anchor[1]))
        out.append((x / 10, y / 10))
    return out


def _check_extent(rings: list[Ring], anchor: tuple[int, int], pad_dm: int, where: str) -> None:
    lim = B.MAX_EXTENT_DM - pad_dm
    for ring in rings:
        for x, y in local_m(anchor, ring):
            if abs(x) * 10 > lim or abs(y) * 10 > lim:
                raise ValueError(
                    f"{where}: too large, it reaches {max(abs(x), abs(y)) / 1000:.1f} km from "
                    f"its centre (limit {B.MAX_EXTENT_DM / 10000:g} km); split it"
                )


def _polygon(coords: object, where: str) -> tuple[list[Ring], tuple[int, int], float]:
    if not isinstance(coords, list) or not coords:
        raise ValueError(f"{where}: a polygon needs at least its outer ring")
    if len(coords) > B.MAX_RINGS:
        raise ValueError(
            f"{where}: {len(coords) - 1} holes; the tag takes at most {B.MAX_RINGS - 1}"
        )
    rings = [
        _ring(r, f"{where}, {'outer ring' if k == 0 else f'hole {k}'}", True)
        for k, r in enumerate(coords)
    ]
    _check_record(rings, where)
    _check_lat_lon(rings, where)
    anchor = _anchor(rings)
    _check_extent(rings, anchor, 0, where)
    local = [local_m(anchor, r) for r in rings]
    for k, r in enumerate(local):
        what = "outer ring" if k == 0 else f"hole {k}"
        if shapely.MultiPoint(r).convex_hull.area < MIN_AREA_M2:  # all on one line
            raise ValueError(f"{where}: {what} has zero area")
        if not shapely.LinearRing(r).is_simple:
            raise ValueError(f"{where}: {what} crosses itself{_at(Polygon(r), anchor)}")
    poly = Polygon(local[0], local[1:])
    if not poly.is_valid:
        why = explain_validity(poly).split("[")[0]
        raise ValueError(f"{where}: invalid polygon: {why}{_at(poly, anchor)}")
    return rings, anchor, poly.area


def _at(poly: Polygon, anchor: tuple[int, int]) -> str:
    """' near lon, lat' of the place shapely finds invalid (local metres back to degrees)."""
    m = re.search(r"\[([-\d.e+]+) ([-\d.e+]+)\]", explain_validity(poly))
    if not m:
        return ""
    x, y = float(m.group(1)), float(m.group(2))
    lat, lon = offset(anchor[0] / 1e6, anchor[1] / 1e6, x, y)
    return f" near [{lon:.6f}, {lat:.6f}]"


def inner_radius_m(shape: int, rings: list[Ring], anchor: tuple[int, int], r_dm: int) -> float:
    """How far the deepest point of a zone lies from its edge, in metres (the widest circle
    that fits inside: a circle's radius, a corridor's half-width, a polygon's inscribed circle)."""
    if shape != B.SHAPE_POLYGON:
        return r_dm / 10
    poly = Polygon(local_m(anchor, rings[0]), [local_m(anchor, r) for r in rings[1:]])
    deepest = polylabel(poly, tolerance=0.5)
    return float(poly.boundary.distance(Point(deepest)))


def _number(props: dict, key: str, where: str, lo: float, hi: float, default=None) -> float:
    v = props.get(key, default)
    if v is None:
        raise ValueError(f"{where}: needs a '{key}' property")
    if not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"{where}: '{key}' = {v!r} is absurd (allowed {lo:g} to {hi:g})")
    return float(v)


def _feature(k: int, feat: object, ids: dict[int, str]) -> list[ZoneSpec]:
    where = f"feature {k}"
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        raise ValueError(f"{where}: not a GeoJSON Feature")
    props = feat.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError(f"{where}: 'properties' must be an object")
    zid, name = props.get("id"), str(props.get("name") or "")
    where = f"feature {k} (zone {zid} {name!r})" if name else f"feature {k} (zone {zid})"
    if not isinstance(zid, int) or isinstance(zid, bool) or not 1 <= zid <= 65535:
        raise ValueError(f"{where}: 'id' must be an integer 1-65535")
    if zid in ids:
        raise ValueError(f"{where}: id {zid} is already used by {ids[zid]}")
    ids[zid] = where
    kind = KINDS.get(str(props.get("kind", "")).lower())
    if kind is None:
        raise ValueError(f"{where}: 'kind' must be 'exclusion' or 'inclusion'")
    warn = int(_number(props, "warning_m", where, 0, B.MAX_WARN_M, DEFAULT_WARNING_M))
    sched = None
    if props.get("schedule") is not None:
        try:
            sched = parse_schedule(props["schedule"])
        except ValueError as e:
            raise ValueError(f"{where}: schedule: {e}") from None
    geom = feat.get("geometry") or {}
    if not isinstance(geom, dict):
        raise ValueError(f"{where}: 'geometry' must be an object")
    gtype, coords = geom.get("type"), geom.get("coordinates")

    def spec(shape: int, rings: list[Ring], anchor, r_dm: int, area: float) -> ZoneSpec:
        ring = warn
        inner = inner_radius_m(shape, rings, anchor, r_dm)
        what = "inclusion" if kind == B.KIND_INCLUSION else "exclusion"
        if inner < MIN_INNER_M:
            raise ValueError(
                f"{where}: too small for GNSS: its deepest point is {inner:.1f} m from the edge "
                f"(at least {MIN_INNER_M} m; the tag needs a fix's centre {_HYST_M} m inside "
                "to end a breach, and indoor fixes are good to about "
                f"{INDOOR_ACC_M} m); make it larger"
            )
        notes = []
        if inner < WARN_INNER_M:
            notes.append(
                f"{where}: small {what} zone (deepest point {inner:.0f} m from the edge): at "
                f"indoor accuracy (~{INDOOR_ACC_M} m) the tag "
                + (
                    "ends a breach there only once the fixes' centres stay 10 m inside"
                    if kind == B.KIND_INCLUSION
                    else "confirms a breach there only by the sustained rule (4 minutes), "
                    "and not at all when the accuracy is worse than twice its depth"
                )
            )
        if kind == B.KIND_INCLUSION and ring > 0:
            if props.get("warning_m") is None:
                ring = max(0, min(ring, int(inner) - INDOOR_ACC_M - 10))
            elif ring >= inner:
                raise ValueError(
                    f"{where}: warning_m {ring} m covers the whole inclusion zone (its deepest "
                    f"point is {inner:.0f} m from the edge), so the tag would sample fast all "
                    f"the time inside it; use at most "
                    f"{max(0, int(inner) - INDOOR_ACC_M - 10)} m, or 0"
                )
        z = ZoneSpec(zid, name, kind, shape, ring, anchor, r_dm, rings, sched, area, inner, notes)
        _check_antimeridian_gap(z, where)
        return z

    if gtype == "Polygon":
        rings, anchor, area = _polygon(coords, where)
        return [spec(B.SHAPE_POLYGON, rings, anchor, 0, area)]
    if gtype == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ValueError(f"{where}: empty MultiPolygon")
        out = []
        for j, part in enumerate(coords):
            rings, anchor, area = _polygon(part, f"{where}, part {j}")
            out.append(spec(B.SHAPE_POLYGON, rings, anchor, 0, area))
        return out
    if gtype == "Point":
        centre = _position(coords, where)
        r = _number(props, "radius_m", where, MIN_RADIUS_M, MAX_RADIUS_M)
        r_dm = round(r * 10)
        dlat = r / M_PER_DEG
        lat = centre[0] / 1e6
        if abs(lat) + dlat > MAX_LAT_DEG:
            raise ValueError(f"{where}: the circle reaches too near a pole (|lat| > 80 deg)")
        if abs(centre[1] / 1e6) + dlat / math.cos(math.radians(lat)) > 180:
            raise ValueError(f"{where}: crosses the antimeridian (180 deg); move or split it")
        return [spec(B.SHAPE_CIRCLE, [], centre, r_dm, math.pi * r * r)]
    if gtype == "LineString":
        line = _ring(coords, where, False)
        _check_lat_lon([line], where, closed=False)
        w = _number(props, "width_m", where, MIN_WIDTH_M, MAX_WIDTH_M)
        half_dm = round(w * 5)
        anchor = _anchor([line])
        _check_extent([line], anchor, half_dm, where)
        area = LineString(local_m(anchor, line)).buffer(w / 2).area
        return [spec(B.SHAPE_CORRIDOR, [line], anchor, half_dm, area)]
    raise ValueError(
        f"{where}: geometry type {gtype!r} is not a zone (Polygon, MultiPolygon, "
        "Point + radius_m, LineString + width_m)"
    )


class ZoneList(list):
    """The zones of a file, and the warnings about the file as a whole (its `crs`)."""

    warnings: list[str]


_CRS84: tuple[str, ...] = ("CRS84", "OGC:CRS84", "OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84")
_CRS84 += ("URN:OGC:DEF:CRS:OGC::CRS84", "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84")
_EPSG4326: tuple[str, ...] = (
    "EPSG:4326",
    "URN:OGC:DEF:CRS:EPSG::4326",
    "URN:OGC:DEF:CRS:EPSG:6.6:4326",
)
_EPSG4326 += ("HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/4326",)


def _crs(doc: dict) -> tuple[list[str], list[str]]:
    """(problems, warnings) about a `crs` member: GeoJSON (RFC 7946) positions are WGS84
    longitude, latitude; the 2008 draft's `crs` is not read, so one that says otherwise must
    not pass silently."""
    if "crs" not in doc:
        return [], []
    crs = doc["crs"]
    name = None
    if isinstance(crs, dict) and crs.get("type") == "name":
        props = crs.get("properties")
        name = props.get("name") if isinstance(props, dict) else None
    key = str(name).strip().upper() if isinstance(name, str) else None
    if key in _CRS84:
        return [], []
    if key in _EPSG4326:
        return [], [
            f"the file's crs {name} (EPSG:4326) is read as GeoJSON's longitude, latitude; "
            "some tools write EPSG:4326 as latitude, longitude: check a zone's position"
        ]
    return [
        f"the file's crs {json.dumps(crs)} is not WGS84 longitude, latitude: GeoJSON "
        "positions must be WGS84 [lon, lat] (RFC 7946); reproject the file"
    ], []


def read_zones(doc: object) -> ZoneList:
    """Validated zones of a parsed GeoJSON document; raises ZoneConfigError with every problem."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ZoneConfigError(["not a GeoJSON FeatureCollection"])
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise ZoneConfigError(["the FeatureCollection has no features"])
    problems, file_notes = _crs(doc)
    zones: ZoneList = ZoneList()
    zones.warnings = file_notes
    ids: dict[int, str] = {}
    for k, feat in enumerate(feats):
        try:
            zones.extend(_feature(k, feat, ids))
        except ValueError as e:
            problems.append(str(e))
    if len(zones) > B.MAX_ZONES:
        problems.append(f"{len(zones)} zones: the tag takes at most {B.MAX_ZONES}")
    if problems:
        raise ZoneConfigError(problems)
    return zones


def _secs(t) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def file_warnings(zones: list[ZoneSpec], start: date, weeks: int) -> list[str]:
    """What an officer would not expect but the tag will do as told (taghost.zonewarn)."""
    from taghost.zonewarn import warnings

    return warnings(zones, start, weeks)


def read_file(path: Path) -> list[ZoneSpec]:
    """The zones of a GeoJSON file; ZoneFileError if it cannot be read as UTF-8 text."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ZoneFileError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise ZoneFileError([f"{path}: is a directory, not a GeoJSON file"]) from None
    except OSError as e:
        raise ZoneFileError([f"{path}: cannot be read ({e.strerror or e})"]) from None
    except UnicodeDecodeError as e:
        raise ZoneFileError(
            [f"{path}: not UTF-8 text (byte {e.start}); GeoJSON must be UTF-8 (RFC 7946)"]
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ZoneConfigError([f"{path}: not JSON ({e})"]) from None
    return read_zones(doc)


DEFAULT_YEARS = 20  # the DST transitions shipped: the tag enforces the rules this long


def compile_blob(
    zones: list[ZoneSpec],
    start: date,
    years: int = DEFAULT_YEARS,
    rules: tuple[int, ...] = W.DEFAULT_RULES,
) -> bytes:
    """The zone blob for the tag: each schedule as its weekly local rules and its time zone's
    offset changes from `start` (00:00 UTC, less two days for windows that cross into it) for
    `years`, so the tag enforces a curfew until the configuration is replaced; after that
    (valid_until) it raises CONFIG_EXPIRED once and keeps the last offset."""
    from taghost.units import EPOCH_2000, seconds_2000
    from taghost.zoneschedule import day_mask, tz_changes

    t0 = seconds_2000(EPOCH_2000.replace(year=start.year, month=start.month, day=start.day))
    t1 = seconds_2000(EPOCH_2000.replace(year=start.year + years, month=1, day=1))
    recs, problems = [], []
    for z in zones:
        wk: list[tuple[int, int, int]] = []
        tz = None
        if z.schedule:
            wk = [(day_mask(r.days), _secs(r.start), _secs(r.end)) for r in z.schedule.rules]
            tz = tz_changes(z.schedule.tz, t0 - 2 * 86400, t1)
        n = _record_bytes(z.rings, 0) + (12 * len(wk) + 4 + 8 * len(tz[1]) if tz else 0)
        if len(wk) > B.MAX_RULES:
            problems.append(f"{z.label()}: {len(wk)} rules; the tag takes at most {B.MAX_RULES}")
        elif tz and len(tz[1]) > B.MAX_CHANGES:
            problems.append(
                f"{z.label()}: {len(tz[1])} clock changes in {years} years; the tag takes at "
                f"most {B.MAX_CHANGES} (fewer years)"
            )
        elif n > 0xFFFF:
            problems.append(
                f"{z.label()}: {sum(len(r) for r in z.rings)} vertices and its schedule do not "
                "fit the tag's zone record (64 KB); simplify it"
            )
        else:
            recs.append(
                W.zone_record(
                    z.id, z.kind, z.shape, z.warning_m, *z.anchor, z.radius_dm, [], z.rings, wk, tz
                )
            )
    if problems:
        raise ZoneConfigError(problems)
    blob = bytes(W.blob(recs, t0, t1, rules))
    err = ZoneMonitor(blob).error  # the device's own loader must take it
    if err is not None:
        raise ZoneConfigError([f"the compiled blob is refused by the tag's loader: {err}"])
    return blob
