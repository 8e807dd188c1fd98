"""Scenario files: the library loads; bad files fail with the file and the key named."""

from __future__ import annotations

import textwrap
from pathlib import Path

import gpxpy.gpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tagsim import runner, scenario
from tagsim.simtime import iso, parse_duration

BASE = """
name = "t"
start = 2026-03-02T08:00:00Z
[[places]]
name = "a"
lat = 52.52
lon = 13.37
[[places]]
name = "b"
lat = 52.53
lon = 13.38
[[itinerary]]
stay = "a"
for = "10m"
[[itinerary]]
go = "b"
"""


def _load(tmp_path: Path, text: str) -> scenario.Scenario:
    p = tmp_path / "s.toml"
    p.write_text(textwrap.dedent(text))
    return scenario.load(p)


def test_library_scenarios_load() -> None:
    files = sorted(runner.SCENARIOS.glob("*.toml"))
    assert len(files) >= 7
    for f in files:
        sc = scenario.load(f)
        assert sc.duration > 0 and sc.expect, f.name
        assert sc.pending <= set(sc.expect)


def test_minimal_scenario_defaults(tmp_path: Path) -> None:
    sc = _load(tmp_path, BASE)
    assert iso(sc.start) == "2026-03-02T08:00:00Z"
    assert sc.board.id == "tbeam_v12_axp2101" and sc.seed == 1
    assert 600 + 800 < sc.duration < 600 + 1100  # the stay, then 1.3 km at walking pace
    assert sc.tag.fix_interval_s == 60 and sc.tag.scan_interval_s == 0
    assert sc.battery_mah == 3000 and sc.zones == ()


def test_durations_and_windows() -> None:
    assert parse_duration("1d2h3m4s") == 93784
    assert parse_duration(90) == 90
    for bad in ("", "2x", -1, True):
        with pytest.raises(ValueError):
            parse_duration(bad)
    w = scenario.Window(22 * 3600, 6 * 3600, True)
    assert w.contains(23 * 3600) and w.contains(86400 * 5 + 3600) and not w.contains(12 * 3600)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour = 1\n", "colour: unknown key"),
        ('board = "nope"\n', "board: unknown board 'nope'"),
        ('[[itinerary]]\ngo = "zz"\n', "itinerary[2].go: unknown place 'zz'"),
        ('[[itinerary]]\ngo = "a"\nmode = "jetpack"\n', "unknown mode 'jetpack'"),
        ('[[itinerary]]\nstay = "a"\nfor = "soon"\n', "itinerary[2].for: expected a duration"),
        ('[[itinerary]]\nflyto = "a"\n', "each step needs"),
        ('[[itinerary]]\ngo = "a"\nvia = [[95, 0]]\n', "expected [lat, lon]"),
        ('[[itinerary]]\ngo = "a"\nenv = "space"\n', "unknown environment 'space'"),
        ('[[itinerary]]\ngo = "a"\nsections = [{from = 0.5, to = 0.2}]\n', "must be greater"),
        ("[tag]\nfix_interval_s = 0\n", "tag.fix_interval_s: 0 is out of range"),
        ('[tag]\nuplink = "pigeon"\n', "expected modem or wifi"),
        ('[expect]\nmin_fixes = "many"\n', "expect.min_fixes: expected a number"),
        ("[expect]\nbest = 1\n", "expect.best: unknown key"),
        ('[expect]\nmin_fixes = 1\npending = ["false_alerts"]\n', "not one of this scenario"),
        ('[[tamper]]\nat = "yesterday"\n', "tamper[0].at: not an ISO 8601"),
        ('[[coverage_gaps]]\ndaily = "25:00-01:00"\n', "expected a time of day"),
        ("[battery]\ncapacity_mah = 0\n", "battery.capacity_mah: 0 is out of range"),
        ('[zones]\nfile = "missing.geojson"\n', "zones.file: no such GeoJSON file"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    # top-level keys must come before the first table in TOML
    text = extra + BASE if not extra.startswith("[") else BASE + extra
    with pytest.raises(scenario.ScenarioError) as e:
        _load(tmp_path, text)
    assert message in str(e.value) and "s.toml" in str(e.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(scenario.ScenarioError, match="not valid TOML"):
        _load(tmp_path, "name = \n")
    with pytest.raises(scenario.ScenarioError, match="no such scenario"):
        scenario.load(tmp_path / "none.toml")
    with pytest.raises(scenario.ScenarioError, match="must start with a 'stay'"):
        _load(tmp_path, BASE.replace('stay = "a"\nfor = "10m"', 'go = "b"'))


def test_bad_geojson(tmp_path: Path) -> None:
    (tmp_path / "z.geojson").write_text('{"type": "Feature"}')
    with pytest.raises(scenario.ScenarioError, match="FeatureCollection"):
        _load(tmp_path, BASE + '[zones]\nfile = "z.geojson"\n')
    (tmp_path / "z.geojson").write_text(
        '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":4,'
        '"kind":"exclusion"},"geometry":{"type":"Point","coordinates":[13,52]}}]}'
    )
    # the host's zone compiler validates (taghost.zoneconfig): its message, naming the zone
    with pytest.raises(scenario.ScenarioError, match=r"zone 4\): needs a 'radius_m' property"):
        _load(tmp_path, BASE + '[zones]\nfile = "z.geojson"\n')


def test_gpx_route_and_repeat(tmp_path: Path) -> None:
    g = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack()
    seg = gpxpy.gpx.GPXTrackSegment()
    seg.points = [gpxpy.gpx.GPXTrackPoint(52.521 + i * 1e-3, 13.371 + i * 1e-3) for i in range(5)]
    trk.segments.append(seg)
    g.tracks.append(trk)
    (tmp_path / "r.gpx").write_text(g.to_xml())
    sc = _load(tmp_path, BASE + 'gpx = "r.gpx"\nmode = "cycle"\n[[itinerary]]\nrepeat = 2\n')
    leg = sc.itinerary[1]
    assert isinstance(leg, scenario.Go) and len(leg.via) == 5 and leg.via[0] == (52.521, 13.371)
    assert len(sc.itinerary) == 6  # the two steps, three times
    (tmp_path / "r.gpx").write_text("<gpx>")
    with pytest.raises(scenario.ScenarioError, match="gpx"):
        _load(tmp_path, BASE + 'gpx = "r.gpx"\n')


_KEYS = scenario.TOP_KEYS | {
    "stay",
    "go",
    "for",
    "mode",
    "via",
    "lat",
    "lon",
    "name",
    "file",
    "daily",
    "start",
    "end",
    "repeat",
    "env",
    "sections",
    "at",
    "kind",
}
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.sampled_from(["home", "a", "b", "walk", "2h", "10:00-12:00", "2026-03-02T08:00:00Z", ""]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(sorted(_KEYS)), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(_KEYS)), _values, max_size=6))
def test_any_document_is_accepted_or_rejected_with_a_scenario_error(doc: dict) -> None:
    base = scenario.tomllib.loads(textwrap.dedent(BASE))
    base.update(doc)
    try:
        scenario.parse(base, "<h>")
    except scenario.ScenarioError as e:
        assert str(e).startswith("<h>")


def _gpx_file(path: Path, pts: list[tuple[float, float]], route: bool) -> None:
    """A GPX written as a GPS app writes one (text, not gpxpy, so any number can be put in)."""
    tag = "rtept" if route else "trkpt"
    body = "".join(f'<{tag} lat="{la}" lon="{lo}"></{tag}>' for la, lo in pts)
    wrap = f"<rte>{body}</rte>" if route else f"<trk><trkseg>{body}</trkseg></trk>"
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        f'xmlns="http://www.topografix.com/GPX/1/1">{wrap}</gpx>'
    )


_good = st.tuples(st.floats(52.50, 52.54), st.floats(13.36, 13.40))
_bad = st.one_of(
    st.tuples(
        st.floats(min_value=90, exclude_min=True) | st.floats(max_value=-90, exclude_max=True),
        st.floats(-180, 180),
    ),
    st.tuples(
        st.floats(-90, 90),
        st.floats(min_value=180, exclude_min=True) | st.floats(max_value=-180, exclude_max=True),
    ),
    st.tuples(st.sampled_from([float("nan"), float("inf"), float("-inf")]), st.floats(-180, 180)),
    st.tuples(st.floats(-90, 90), st.sampled_from([float("nan"), float("inf")])),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pts=st.lists(_good, min_size=1, max_size=6),
    bad=_bad,
    where=st.integers(0, 6),
    route=st.booleans(),
)
def test_a_gpx_point_off_the_globe_is_refused(
    tmp_path: Path,
    pts: list[tuple[float, float]],
    bad: tuple[float, float],
    where: int,
    route: bool,
) -> None:
    """A GPX with lat 952 was accepted and simulated 7,000 h of walking."""
    pts = [*pts[:where], bad, *pts[where:]]
    _gpx_file(tmp_path / "r.gpx", pts, route)
    with pytest.raises(scenario.ScenarioError, match=r"itinerary\[1\]\.gpx: .*point \d+"):
        _load(tmp_path, BASE + 'gpx = "r.gpx"\n')


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pts=st.lists(_good, min_size=2, max_size=6), route=st.booleans())
def test_a_gpx_on_the_globe_is_taken_point_for_point(
    tmp_path: Path, pts: list[tuple[float, float]], route: bool
) -> None:
    _gpx_file(tmp_path / "r.gpx", pts, route)
    sc = _load(tmp_path, BASE + 'gpx = "r.gpx"\n')
    leg = sc.itinerary[1]
    assert isinstance(leg, scenario.Go) and leg.via == tuple(pts)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", ["lat", "lon", "radius_m"])
def test_non_finite_numbers_are_refused(tmp_path: Path, key: str, value: str) -> None:
    """TOML has nan and inf; no range check refuses nan (every comparison is false)."""
    text = BASE.replace(
        "lat = 52.52\nlon = 13.37\n", "lat = 52.52\nlon = 13.37\n" if key != "lat" else ""
    )
    text = text.replace('name = "a"\n', f'name = "a"\n{key} = {value}\n', 1)
    if key == "lon":
        text = text.replace("lon = 13.37\n", "", 1)
    with pytest.raises(scenario.ScenarioError, match=rf"places\[0\]\.{key}"):
        _load(tmp_path, text)


@pytest.mark.parametrize("lat", [0.0, 51.5, -33.9, 64.1, 78.2])
@pytest.mark.parametrize("kind", ["Point", "LineString"])
def test_truth_zones_are_geodesic(lat: float, kind: str) -> None:
    """The truth a run is scored against is the zone on the WGS84 ellipsoid, as the tag now
    computes it (within 0.5 m): a circle's truth boundary lies at its radius by the geodesic,
    a corridor's at its half-width from the centre line (pyproj's Geod as the oracle)."""
    import numpy as np
    from pyproj import Geod
    from shapely.geometry import LineString
    from taghost.zoneconfig import read_zones

    geod = Geod(ellps="WGS84")
    r = 5000.0 if kind == "Point" else 1000.0
    if kind == "Point":
        geom = {"type": "Point", "coordinates": [10.0, lat]}
        props = {"id": 1, "kind": "exclusion", "radius_m": r}
    else:
        geom = {"type": "LineString", "coordinates": [[10.0, lat], [10.05, lat + 0.03]]}
        props = {"id": 1, "kind": "exclusion", "width_m": 2 * r}
    feat = {"type": "Feature", "properties": props, "geometry": geom}
    spec = read_zones({"type": "FeatureCollection", "features": [feat]})[0]
    truth = scenario._truth_shape(feat, spec)
    line = LineString(geom["coordinates"]) if kind != "Point" else None
    pts = np.array(line.segmentize(1e-5).coords) if line is not None else None
    worst = 0.0
    for lon, la in list(truth.exterior.coords)[:-1:4]:
        if kind == "Point":
            d = geod.inv(10.0, lat, lon, la)[2]
        else:  # the geodesic distance to the centre line: the nearest of its points 1 m apart
            n = len(pts)
            d = min(geod.inv(pts[:, 0], pts[:, 1], [lon] * n, [la] * n)[2])
        worst = max(worst, abs(d - r))
    assert worst < 1.0, worst
