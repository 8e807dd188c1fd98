"""Scenario files (TOML): what the wearer does, where the zones are, what the run must show.

`load(path)` returns a Scenario or raises ScenarioError naming the file and the key at fault.
The format is documented in docs/simulator.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from taghost.errors import UserError

from tagsim import boards, docfile
from tagsim.simtime import parse_clock, parse_duration, parse_instant

# Typical speed, m/s: urban modes, and a motorway (120 km/h, no stops: the drive-through case)
MODES = {"walk": 1.4, "cycle": 4.5, "bus": 7.0, "car": 11.0, "motorway": 33.3}
ENVS = ("open", "urban", "indoor", "underground")
TAMPER_KINDS = ("strap_cut", "case_open", "removed")
KIND_NAMES = {1: "exclusion", 2: "inclusion"}  # tagcore.zones.blob KIND_*
# Expectation keys: metric name and whether the value is a floor ("min") or a ceiling ("max").
EXPECT_KEYS = {
    "min_fixes": ("fixes_recorded", "min"),
    "max_fix_error_median_m": ("fix_error_median_m", "max"),
    "max_fix_error_p95_m": ("fix_error_p95_m", "max"),
    "min_battery_end_pct": ("battery_end_pct", "min"),
    "max_battery_end_pct": ("battery_end_pct", "max"),
    "min_truth_zone_entries": ("truth_zone_entries", "min"),
    "max_truth_zone_entries": ("truth_zone_entries", "max"),
    "min_truth_curfew_breaches": ("truth_curfew_breaches", "min"),
    "min_truth_encounters": ("truth_encounters", "min"),
    "max_alert_delay_s": ("alert_delay_max_s", "max"),
    "false_alerts": ("false_alerts", "max"),
    "missed_entries": ("missed_entries", "max"),
    "max_wearer_warnings": ("wearer_warnings", "max"),
    "max_unseen_entries": ("unseen_entries", "max"),  # entries without one stored fix inside
    "max_server_delay_s": ("server_delay_max_s", "max"),
    "max_alert_upload_delay_s": ("alert_upload_delay_max_s", "max"),  # any alert -> server
    "min_zone_alerts_matched": ("alerts_matched", "min"),
    "min_encounters_detected": ("encounters_detected", "min"),
    "max_encounter_delay_s": ("encounter_delay_max_s", "max"),
    "max_proximity_false_alerts": ("proximity_false_alerts", "max"),
    "min_victim_zone_alerts": ("victim_zone_alerts_matched", "min"),
    "min_uploads": ("uploads", "min"),
    "min_tamper_events": ("tamper_events", "min"),
    "min_days_battery": ("battery_life_days", "min"),
    "max_days_battery": ("battery_life_days", "max"),
    "battery_empty": ("battery_empty", "eq"),
    # [server] runs, measured in the real server's database (tagsim.metrics.server_figures)
    "min_fixes_delivered_pct": ("fixes_delivered_pct", "min"),
    "max_alert_to_server_s": ("alert_to_server_max_s", "max"),
    "max_records_stored_twice": ("records_stored_twice", "max"),
}


class ScenarioError(UserError):
    """A scenario file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    env: str
    radius_m: float


@dataclass(frozen=True)
class Stay:
    place: str
    seconds: int


@dataclass(frozen=True)
class Go:
    to: str
    mode: str
    via: tuple[tuple[float, float], ...]  # waypoints between the current place and `to`
    env: str
    sections: tuple[tuple[float, float, str], ...]  # (from, to) as fractions of the leg, env
    speed: float  # m/s


@dataclass(frozen=True)
class Window:
    """A time window: absolute [start, end) or, with daily=True, seconds after midnight UTC."""

    start: int
    end: int
    daily: bool = False

    def contains(self, t: int) -> bool:
        if not self.daily:
            return self.start <= t < self.end
        s = t % 86400
        if self.start <= self.end:
            return self.start <= s < self.end
        return s >= self.start or s < self.end  # wraps midnight


@dataclass(frozen=True)
class Zone:
    id: int
    name: str
    kind: str  # "exclusion" (must stay out) or "inclusion" (must be inside during schedule)
    geometry: Any  # shapely geometry, lon/lat (truth)
    schedule: Any  # taghost.zoneschedule.Schedule (local weekly rules), None: always
    specs: tuple[Any, ...] = ()  # taghost.zoneconfig.ZoneSpec: what the tag's blob is built from


@dataclass(frozen=True)
class Beacon:
    start: str
    itinerary: tuple[Stay | Go, ...]
    tx_power_dbm: float  # RSSI at 1 m
    path_loss_exp: float
    shadowing_db: float
    body_loss_db: float
    wall_loss_db: float
    encounter_m: float
    secret: bytes  # the beacon's 16-byte key (identifiers: tagcore.proximity.beaconid)
    victim_gnss: bool  # the victim's phone reports her position; each upload brings it back


@dataclass(frozen=True)
class TagConfig:
    fix_interval_s: int
    max_search_s: int
    scan_interval_s: int  # 0: no beacon scans
    upload_interval_s: int
    uplink: str
    low_battery_pct: int
    more: tuple[tuple[str, int], ...] = ()  # the other tagcore.app.config keys set in [tag]
    seal: bool = True  # the store seals its log (docs/evidence.md; [tag] seal = false: not)

    @property
    def settings(self) -> dict[str, int]:
        """The tag configuration's values (tagcore.app.config keys) this scenario sets."""
        d = {
            "fix_interval_s": self.fix_interval_s,
            "max_search_s": self.max_search_s,
            "scan_interval_s": self.scan_interval_s,
            "upload_interval_s": self.upload_interval_s,
            "low_battery_pct": self.low_battery_pct,
        }
        d.update(self.more)
        return d


@dataclass(frozen=True)
class ServerLink:
    """[server]: the run uploads through the tag's real uplink client, over this link model
    (tagsim.uplinklink), into the real `opentag server` (taghost.server) on a loopback port."""

    db_url: str | None  # None: SQLite in a temporary folder; else e.g. postgresql://...
    latency_s: float  # request out plus reply back
    loss: float  # chance that a request, or else its reply, is lost
    timeout_s: float  # how long the tag waits for a reply that does not come
    tag_id: bytes  # 8 bytes: the COSE kid the server is provisioned with
    key: bytes  # 32 bytes: the tag's MAC key (not the beacon secret)
    seal_key: bytes = b""  # 32 bytes: the initial seal key k0 (empty: sim_seal_key's)


def _hexbytes(n: int) -> Any:
    def conv(v: object) -> bytes:
        try:
            b = bytes.fromhex(v) if isinstance(v, str) else b""
        except ValueError:
            b = b""
        if len(b) != n:
            raise ValueError(f"expected {2 * n} hex digits ({n} bytes), got {v!r}")
        return b

    return conv


def sim_identity(name: str, seed: int) -> tuple[bytes, bytes]:
    """The tag id and key a scenario's tag is provisioned with unless [server] gives them: one
    per scenario name and seed, so several runs can share one server."""
    h = hashlib.sha256(b"sim-tag/%s/%d" % (name.encode(), seed)).digest()
    return h[:8], hashlib.sha256(b"sim-key/" + h).digest()


def sim_seal_key(name: str, seed: int) -> bytes:
    """The initial seal key k0 a scenario's tag seals with unless [server] gives one (the
    simulator's stand-in for what `opentag server provision` prints)."""
    return hashlib.sha256(b"sim-seal/%s/%d" % (name.encode(), seed)).digest()


def seal_identity(sc: Scenario) -> tuple[bytes, bytes] | None:
    """(kid, k0) the scenario's tag seals with, or None ([tag] seal = false)."""
    if not sc.tag.seal:
        return None
    if sc.server is not None:
        return sc.server.tag_id, sc.server.seal_key or sim_seal_key(sc.name, sc.seed)
    return sim_identity(sc.name, sc.seed)[0], sim_seal_key(sc.name, sc.seed)


def with_server(
    sc: Scenario,
    db_url: str | None = None,
    *,
    latency_s: float | None = None,
    loss: float | None = None,
    timeout_s: float | None = None,
) -> Scenario:
    """The scenario with a [server] section (its own, else the defaults): for callers that
    turn the real server on without editing the file (`make demo`, tests). A link figure left
    None keeps the section's own."""
    import dataclasses

    base = sc.server
    if base is None:
        tid, key = sim_identity(sc.name, sc.seed)
        base = ServerLink(None, 1.5, 0.0, 30.0, tid, key, sim_seal_key(sc.name, sc.seed))
    link = dataclasses.replace(
        base,
        db_url=db_url or base.db_url,
        latency_s=base.latency_s if latency_s is None else latency_s,
        loss=base.loss if loss is None else loss,
        timeout_s=base.timeout_s if timeout_s is None else timeout_s,
    )
    return dataclasses.replace(sc, server=link)


def _server(r: _Reader, name: str, seed: int) -> ServerLink | None:
    if "server" not in r.data:
        return None
    s = r.sub("server")
    s.check_keys({"db_url", "latency_s", "loss", "timeout_s", "tag_id", "key", "seal_key"})
    url = s.get("db_url", str, "") or None
    if url is not None and not url.startswith(("sqlite:", "postgresql:", "postgres:")):
        raise s.fail("db_url", f"expected sqlite:///FILE or postgresql://..., got {url!r}")
    tid, key = sim_identity(name, seed)
    return ServerLink(
        url,
        float(s.num("latency_s", 1.5, lo=0, hi=600)),
        float(s.num("loss", 0.0, lo=0, hi=0.9)),
        float(s.num("timeout_s", 30.0, lo=1, hi=600)),
        s.conv("tag_id", _hexbytes(8), tid),
        s.conv("key", _hexbytes(32), key),
        s.conv("seal_key", _hexbytes(32), sim_seal_key(name, seed)),
    )


@dataclass
class Scenario:
    path: Path | None
    name: str
    description: str
    board: boards.Board
    start: int
    duration: int
    seed: int
    places: dict[str, Place]
    itinerary: tuple[Stay | Go, ...]
    start_place: str
    zones: tuple[Zone, ...]
    zones_geojson: dict[str, Any] | None
    beacon: Beacon | None
    coverage_gaps: tuple[Window, ...]
    charging: tuple[Window, ...]
    charge_ma: float
    battery_mah: float
    battery_initial_pct: float
    tamper: tuple[tuple[int, str], ...]
    tag: TagConfig
    expect: dict[str, Any]
    pending: frozenset[str]
    line_noise: float  # probability a UART byte is corrupted
    chunk_bytes: int  # largest UART chunk the shell reads at once
    extra: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None  # IANA zone the report's local times are in (None: the zones')
    attacks: tuple[Any, ...] = ()  # tagsim.attacks.Attack: foil, jammer, spoofer ([[attack]])
    server: ServerLink | None = None  # [server]: uploads go to the real server (None: loopback)


class _Reader:
    """Typed access to a TOML table that reports the full key path on error."""

    def __init__(self, src: str, data: dict[str, Any], path: str = "") -> None:
        self.src, self.data, self.path = src, data, path

    def fail(self, key: str, msg: str) -> ScenarioError:
        where = f"{self.path}.{key}" if self.path else key
        return ScenarioError(f"{self.src}: {where}: {msg}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        v = self.data[key]
        if (
            isinstance(v, bool)
            and kind is not bool
            and bool not in (kind if isinstance(kind, tuple) else (kind,))
        ):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {v!r}")
        if not isinstance(v, kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {v!r}")
        return v

    def num(
        self, key: str, default: Any = ..., lo: float | None = None, hi: float | None = None
    ) -> float:
        v = self.get(key, (int, float), default)
        if v is not default and not math.isfinite(v):  # TOML has nan and inf; nan passes < and >
            raise self.fail(key, f"{v} is not a finite number")
        if v is not default and ((lo is not None and v < lo) or (hi is not None and v > hi)):
            raise self.fail(key, f"{v} is out of range [{lo}, {hi}]")
        return v

    def conv(self, key: str, fn: Any, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(key, "missing")
            return default
        try:
            return fn(self.data[key])
        except ValueError as e:
            raise self.fail(key, str(e)) from None

    def sub(self, key: str, i: int | None = None) -> _Reader:
        v = self.data[key] if i is None else self.data[key][i]
        p = f"{self.path}.{key}" if self.path else key
        if i is not None:
            p += f"[{i}]"
        if not isinstance(v, dict):
            raise ScenarioError(f"{self.src}: {p}: expected a table")
        return _Reader(self.src, v, p)

    def tables(self, key: str) -> list[_Reader]:
        v = self.data.get(key, [])
        if not isinstance(v, list):
            raise self.fail(key, "expected an array of tables ([[...]])")
        return [self.sub(key, i) for i in range(len(v))]

    def check_keys(self, allowed: set[str]) -> None:
        for k in self.data:
            if k not in allowed:
                raise self.fail(k, f"unknown key (expected one of: {', '.join(sorted(allowed))})")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {"int": "a number", "float": "a number", "str": "a string", "list": "an array"}
    return " or ".join(dict.fromkeys(names.get(k.__name__, k.__name__) for k in kinds))


def _latlon(r: _Reader, key: str, v: Any) -> tuple[float, float]:
    ok = (
        isinstance(v, list)
        and len(v) == 2
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    )
    if not ok or not _on_globe(v[0], v[1]):
        raise r.fail(key, f"expected [lat, lon] in degrees, got {v!r}")
    return (float(v[0]), float(v[1]))


def _on_globe(lat: float, lon: float) -> bool:
    """A latitude and longitude in degrees (nan and inf fail every comparison here)."""
    return -90 <= lat <= 90 and -180 <= lon <= 180


def _env(r: _Reader, key: str, default: str) -> str:
    v = r.get(key, str, default)
    if v not in ENVS:
        raise r.fail(key, f"unknown environment {v!r} (expected one of {', '.join(ENVS)})")
    return v


def _gpx_points(r: _Reader, base: Path) -> tuple[tuple[float, float], ...]:
    import gpxpy
    import gpxpy.gpx

    p = base / r.get("gpx", str)
    try:
        g = gpxpy.parse(p.read_text())
    except FileNotFoundError:
        raise r.fail("gpx", f"no such file {p}") from None
    except (OSError, UnicodeDecodeError, gpxpy.gpx.GPXException) as e:  # gpxpy: bad XML, points
        raise r.fail("gpx", f"not a readable GPX file: {e}") from None
    pts = [(q.latitude, q.longitude) for t in g.tracks for s in t.segments for q in s.points]
    pts += [(q.latitude, q.longitude) for rt in g.routes for q in rt.points]
    for i, (la, lo) in enumerate(pts):
        if not _on_globe(la, lo):
            raise r.fail("gpx", f"{p}: point {i} (lat {la}, lon {lo}) is not on the globe")
    if len(pts) < 2:
        raise r.fail("gpx", f"{p} holds fewer than two track or route points")
    return tuple(pts)


def _itinerary(r: _Reader, key: str, places: dict[str, Place], base: Path) -> list[Stay | Go]:
    steps: list[Stay | Go] = []
    for s in r.tables(key):
        if "repeat" in s.data:  # the steps so far, `repeat` more times (a routine, a week)
            s.check_keys({"repeat"})
            steps = steps * (1 + int(s.num("repeat", lo=0, hi=1000)))
        elif "stay" in s.data:
            s.check_keys({"stay", "for"})
            name = s.get("stay", str)
            if name not in places:
                raise s.fail("stay", f"unknown place {name!r}")
            steps.append(Stay(name, s.conv("for", parse_duration)))
        elif "go" in s.data:
            s.check_keys({"go", "mode", "via", "gpx", "env", "sections", "speed"})
            to = s.get("go", str)
            if to not in places:
                raise s.fail("go", f"unknown place {to!r}")
            mode = s.get("mode", str, "walk")
            if mode not in MODES:
                raise s.fail("mode", f"unknown mode {mode!r} (expected one of {', '.join(MODES)})")
            via = tuple(_latlon(s, "via", p) for p in s.get("via", list, []))
            if "gpx" in s.data:
                via += _gpx_points(s, base)
            secs = []
            for sec in s.tables("sections"):
                sec.check_keys({"from", "to", "env"})
                a, b = sec.num("from", lo=0, hi=1), sec.num("to", lo=0, hi=1)
                if b <= a:
                    raise sec.fail("to", "must be greater than 'from'")
                secs.append((float(a), float(b), _env(sec, "env", "open")))
            speed = s.num("speed", MODES[mode], lo=0.1, hi=60)
            steps.append(Go(to, mode, via, _env(s, "env", "open"), tuple(secs), float(speed)))
        else:
            raise s.fail("", "each step needs 'stay = PLACE', 'go = PLACE' or 'repeat = N'")
    return steps


def _secret(v: object) -> bytes:
    try:
        b = bytes.fromhex(v) if isinstance(v, str) else b""
    except ValueError:
        b = b""
    if len(b) != 16:
        raise ValueError(f"expected 32 hex digits (a 16-byte key), got {v!r}")
    return b


def _daily(v: object) -> tuple[int, int]:
    if not isinstance(v, str) or v.count("-") != 1:
        raise ValueError(f"expected 'HH:MM-HH:MM', got {v!r}")
    a, b = v.split("-")
    return parse_clock(a.strip()), parse_clock(b.strip())


def _windows(r: _Reader, key: str) -> list[Window]:
    out = []
    for w in r.tables(key):
        if "daily" in w.data:
            w.check_keys({"daily"})
            a, b = w.conv("daily", _daily)
            out.append(Window(a, b, True))
        else:
            w.check_keys({"start", "end", "for"})
            a = w.conv("start", parse_instant)
            b = (
                w.conv("end", parse_instant)
                if "end" in w.data
                else a + w.conv("for", parse_duration)
            )
            if b <= a:
                raise w.fail("end", "must be after start")
            out.append(Window(a, b))
    return out


def _truth_shape(feat: dict[str, Any], spec: Any) -> Any:
    """The zone as a lon/lat shapely geometry for truth: polygons as drawn; a circle or a
    corridor buffered on the WGS84 ellipsoid, as the tag computes it (issue 13 item 7): in an
    azimuthal equidistant frame at the zone's anchor, where distances from the anchor are
    geodesic and a corridor's (at most a few km long) are within millimetres of it."""
    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import LineString, Point, shape
    from shapely.geometry.base import BaseGeometry

    g = feat["geometry"]
    if g["type"] in ("Polygon", "MultiPolygon"):
        return shape(g)
    lat0, lon0 = spec.anchor[0] / 1e6, spec.anchor[1] / 1e6
    aeqd = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m"
    fwd = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    back = Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
    local: BaseGeometry
    if g["type"] == "Point":
        local = Point(0.0, 0.0)
    else:
        local = LineString([fwd.transform(lon / 1e6, lat / 1e6) for lat, lon in spec.rings[0]])
    local = local.buffer(spec.radius_dm / 10, 64)
    return shapely.transform(local, lambda xy: np.column_stack(back.transform(*xy.T)))


def _zones(r: _Reader, base: Path) -> tuple[list[Zone], dict[str, Any] | None]:
    """The zones as the host's zone compiler reads them (taghost.zoneconfig: the same
    validation and messages as `opentag zones check`), with a truth geometry each."""
    from taghost.zoneconfig import ZoneConfigError, read_zones

    if "zones" not in r.data:
        return [], None
    z = r.sub("zones")
    z.check_keys({"file"})
    p = base / z.get("file", str)
    gj = docfile.read(
        p, json.loads, json.JSONDecodeError, lambda m: z.fail("file", m), "GeoJSON file", "JSON"
    )
    if not isinstance(gj, dict) or gj.get("type") != "FeatureCollection":
        raise z.fail("file", f"{p} must be a GeoJSON FeatureCollection")
    try:
        specs = read_zones(gj)
    except ZoneConfigError as e:
        raise ScenarioError(f"{p}: " + "; ".join(e.problems)) from None
    zones = []
    for f in gj["features"]:
        zid = f["properties"]["id"]
        mine = tuple(s for s in specs if s.id == zid)
        s = mine[0]
        zones.append(
            Zone(
                zid,
                s.name or f"zone {zid}",
                KIND_NAMES[s.kind],
                _truth_shape(f, s),
                s.schedule,
                mine,
            )
        )
    return zones, gj


TOP_KEYS = {
    "name",
    "description",
    "board",
    "start",
    "duration",
    "seed",
    "places",
    "itinerary",
    "zones",
    "beacon",
    "coverage_gaps",
    "battery",
    "tamper",
    "attack",
    "tag",
    "expect",
    "uart",
    "timezone",
    "server",
}


def _timezone(v: object) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(v, str) or not v:
        raise ValueError(f"expected an IANA time zone name such as 'Europe/London', got {v!r}")
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {v!r} (want an IANA name such as 'Europe/London')"
        ) from None
    return v


def parse(doc: dict[str, Any], src: str = "<scenario>", base: Path | None = None) -> Scenario:
    base = base or Path.cwd()
    r = _Reader(src, doc)
    r.check_keys(TOP_KEYS)
    try:
        board = boards.load(r.get("board", str, "tbeam_v12_axp2101"))
    except boards.BoardError as e:
        raise r.fail("board", str(e)) from None
    places: dict[str, Place] = {}
    for p in r.tables("places"):
        p.check_keys({"name", "lat", "lon", "env", "radius_m"})
        name = p.get("name", str)
        if name in places:
            raise p.fail("name", f"duplicate place {name!r}")
        places[name] = Place(
            name,
            float(p.num("lat", lo=-90, hi=90)),
            float(p.num("lon", lo=-180, hi=180)),
            _env(p, "env", "open"),
            float(p.num("radius_m", 0.0, lo=0, hi=500)),
        )
    if not places:
        raise r.fail("places", "at least one [[places]] entry is needed")
    itin = _itinerary(r, "itinerary", places, base)
    if not itin or not isinstance(itin[0], Stay):
        raise r.fail("itinerary", "must start with a 'stay' step (where the wearer starts)")
    start = r.conv("start", parse_instant)
    duration = r.conv("duration", parse_duration, None)
    seed = int(r.num("seed", 1))
    if duration is None:  # until the itinerary ends (legs take as long as this seed says)
        from tagsim.truth import Trajectory

        duration = Trajectory(tuple(itin), places, start, seed).end - start
    zones, gj = _zones(r, base)
    beacon = None
    if "beacon" in r.data:
        b = r.sub("beacon")
        b.check_keys(
            {
                "itinerary",
                "tx_power_dbm",
                "path_loss_exp",
                "shadowing_db",
                "body_loss_db",
                "wall_loss_db",
                "encounter_m",
                "secret",
                "victim_gnss",
            }
        )
        bit = _itinerary(b, "itinerary", places, base)
        if not bit or not isinstance(bit[0], Stay):
            raise b.fail("itinerary", "must start with a 'stay' step")
        beacon = Beacon(
            bit[0].place,
            tuple(bit),
            float(b.num("tx_power_dbm", -59.0, lo=-100, hi=0)),
            float(b.num("path_loss_exp", 2.2, lo=1.5, hi=5)),
            float(b.num("shadowing_db", 4.0, lo=0, hi=20)),
            float(b.num("body_loss_db", 6.0, lo=0, hi=30)),
            float(b.num("wall_loss_db", 8.0, lo=0, hi=40)),
            float(b.num("encounter_m", 10.0, lo=1, hi=1000)),
            b.conv("secret", _secret, hashlib.sha256(b"sim-beacon-%d" % seed).digest()[:16]),
            b.get("victim_gnss", bool, True),
        )
    bat = r.sub("battery") if "battery" in r.data else _Reader(src, {}, "battery")
    bat.check_keys({"capacity_mah", "initial_pct", "charge_ma", "charging"})
    tg = r.sub("tag") if "tag" in r.data else _Reader(src, {}, "tag")
    from tagcore.app import config as appconfig
    from taghost import tagconfig

    known = ("fix_interval_s", "max_search_s", "scan_interval_s", "upload_interval_s", "uplink")
    tg.check_keys({k[1] for k in appconfig.KEYS} | {"uplink", "seal"})
    more = {k: v for k, v in tg.data.items() if k not in (*known, "low_battery_pct", "seal")}
    for problem in tagconfig.check(more):  # the tag configuration's own ranges
        k, _, msg = problem.partition(": ")
        raise tg.fail(k, msg)
    uplink = tg.get("uplink", str, "modem")
    if uplink not in ("modem", "wifi"):
        raise tg.fail("uplink", f"expected modem or wifi, got {uplink!r}")
    tag = TagConfig(
        int(tg.num("fix_interval_s", 60, lo=1, hi=86400)),
        int(tg.num("max_search_s", 120, lo=5, hi=3600)),
        int(tg.num("scan_interval_s", 60 if beacon else 0, lo=0, hi=86400)),
        int(tg.num("upload_interval_s", 900, lo=60, hi=86400)),
        uplink,
        int(tg.num("low_battery_pct", 15, lo=0, hi=100)),
        tuple(sorted(more.items())),
        tg.get("seal", bool, True),
    )
    tampers = []
    for t in r.tables("tamper"):
        t.check_keys({"at", "kind"})
        kind = t.get("kind", str, "strap_cut")
        if kind not in TAMPER_KINDS:
            raise t.fail("kind", f"expected one of {', '.join(TAMPER_KINDS)}, got {kind!r}")
        tampers.append((t.conv("at", parse_instant), kind))
    ex = r.sub("expect") if "expect" in r.data else _Reader(src, {}, "expect")
    ex.check_keys(set(EXPECT_KEYS) | {"pending"})
    expect = {k: v for k, v in ex.data.items() if k != "pending"}
    for k in expect:
        want = bool if EXPECT_KEYS[k][1] == "eq" else (int, float)
        ex.get(k, want)
    pending = ex.get("pending", list, [])
    for k in pending:
        if k not in expect:
            raise ex.fail("pending", f"{k!r} is not one of this scenario's expectations")
    u = r.sub("uart") if "uart" in r.data else _Reader(src, {}, "uart")
    u.check_keys({"line_noise", "chunk_bytes"})
    name = r.get("name", str, Path(src).stem)
    return Scenario(
        path=None,
        name=name,
        description=r.get("description", str, ""),
        board=board,
        start=start,
        duration=int(duration),
        seed=seed,
        places=places,
        itinerary=tuple(itin),
        start_place=itin[0].place,
        zones=tuple(zones),
        zones_geojson=gj,
        beacon=beacon,
        coverage_gaps=tuple(_windows(r, "coverage_gaps")),
        charging=tuple(_windows(bat, "charging")),
        charge_ma=float(bat.num("charge_ma", 500.0, lo=0, hi=5000)),
        battery_mah=float(
            bat.num(
                "capacity_mah",
                board.raw.get("battery", {}).get("typical_mah", 3000),
                lo=1,
                hi=100000,
            )
        ),
        battery_initial_pct=float(bat.num("initial_pct", 100.0, lo=0, hi=100)),
        tamper=tuple(sorted(tampers)),
        tag=tag,
        expect=expect,
        pending=frozenset(pending),
        line_noise=float(u.num("line_noise", 0.0, lo=0, hi=0.1)),
        chunk_bytes=int(u.num("chunk_bytes", 256, lo=1, hi=4096)),
        timezone=r.conv("timezone", _timezone, None),
        attacks=_attacks(r, places),
        server=_server(r, name, seed),
    )


def _attacks(r: _Reader, places: dict[str, Place]) -> tuple[Any, ...]:
    from tagsim.attacks import KINDS, Attack

    out = []
    for a in r.tables("attack"):
        a.check_keys(
            {"kind", "at", "for", "wrap_s", "distance_m", "speed_ms", "power_db"}
            | {"place", "lag_s", "cno"}
        )
        kind = a.get("kind", str)
        if kind not in KINDS:
            raise a.fail("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
        lat = lon = 0.0
        if kind == "spoofer":
            name = a.get("place", str)
            if name not in places:
                raise a.fail("place", f"no place named {name!r}")
            lat, lon = places[name].lat, places[name].lon
        out.append(
            Attack(
                kind,
                a.conv("at", parse_instant),
                int(a.conv("for", parse_duration, 0 if kind == "jammer" else 1200)),
                float(a.num("wrap_s", 3.0, lo=0.5, hi=60)),
                float(a.num("distance_m", 30.0, lo=1, hi=1000)),
                float(a.num("speed_ms", 10.0, lo=0.5, hi=50)),
                float(a.num("power_db", 80.0, lo=20, hi=120)),
                lat,
                lon,
                int(a.num("lag_s", 0, lo=0, hi=86400)),
                float(a.num("cno", 45.0, lo=25, hi=60)),
            )
        )
    return tuple(sorted(out, key=lambda x: x.start))


def load(path: str | Path) -> Scenario:
    path = Path(path)
    doc = docfile.read(
        path, tomllib.loads, tomllib.TOMLDecodeError, ScenarioError, "scenario file", "TOML"
    )
    sc = parse(doc, str(path), path.parent)
    sc.path = path
    return sc
