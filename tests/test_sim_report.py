"""A run's files: metrics JSON, JSONL events, GeoJSON and GPX that their readers accept, and an
HTML report that a real headless Chromium renders offline into a non-blank picture."""

from __future__ import annotations

import html as htmlmod
import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import gpxpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pngread import read_png
from shapely.geometry import shape
from taghost import draw
from taghost.cli import main as opentag
from taghost.errors import EXIT_CRASH
from taghost.units import EPOCH_2000
from tagsim import report, runner, scenario, story

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.Result]:
    sc = scenario.load(runner.SCENARIOS / "beacon_indoor.toml")
    res = runner.run_scenario(sc)
    d = tmp_path_factory.mktemp("run")
    runner.write(res, d)
    return d, res


def test_metrics_and_events(out: tuple[Path, runner.Result]) -> None:
    d, res = out
    doc = json.loads((d / "metrics.json").read_text())
    assert (
        doc["verdict"] == "green"
        and doc["metrics"]["fixes_recorded"] == res.metrics["fixes_recorded"]
    )
    rows = [json.loads(x) for x in (d / "events.jsonl").read_text().splitlines()]
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows)
    kinds = Counter((r["src"], r.get("ev")) for r in rows)
    assert kinds[("tag", "F")] == res.metrics["fixes_recorded"]
    assert kinds[("tag", "S")] == res.metrics["beacon_adv_heard"]
    assert kinds[("world", "gnss_on")] > 50


def test_geojson_and_gpx_read_back(out: tuple[Path, runner.Result]) -> None:
    d, res = out
    gj = json.loads((d / "trail.geojson").read_text())
    roles = Counter(f["properties"]["role"] for f in gj["features"])
    assert (
        roles["truth"] == 1 and roles["fix"] == res.metrics["fixes_recorded"] and roles["zone"] == 2
    )
    for f in gj["features"]:
        assert shape(f["geometry"]).is_valid
    g = gpxpy.parse((d / "trail.gpx").read_text())
    names = [t.name for t in g.tracks]
    assert names == ["truth", "fixes"]
    assert len(g.tracks[1].segments[0].points) == res.metrics["fixes_recorded"]
    assert g.tracks[0].segments[0].points[0].time is not None


def test_report_is_self_contained(out: tuple[Path, runner.Result]) -> None:
    html = (out[0] / "report.html").read_text()
    assert "<svg" in html and "<script" not in html
    for bad in ('src="http', 'href="http', "url(http", "@import"):
        assert bad not in html


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if p := shutil.which(name):
            return p
    pytest.fail("no Chromium: `make test` installs Debian's chromium package", pytrace=False)


def test_report_renders_in_headless_chromium(
    out: tuple[Path, runner.Result], tmp_path: Path
) -> None:
    png = tmp_path / "shot.png"
    cmd = [
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1000,1300",
        f"--screenshot={png}",
        (out[0] / "report.html").as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    w, h, rows = read_png(png.read_bytes())
    assert (w, h) == (1000, 1300)
    px = Counter()
    for row in rows[::2]:
        for x in range(0, len(row), 6):
            px[row[x : x + 3]] += 1
    total = sum(px.values())
    background = px.most_common(1)[0][1]
    assert background < 0.8 * total  # not a blank page
    assert len(px) > 100  # text, lines, fills: a real render has many colours

    def near(rgb: tuple[int, int, int], tol: int = 40) -> int:
        return sum(n for c, n in px.items() if all(abs(c[k] - rgb[k]) <= tol for k in range(3)))

    assert near((0x1F, 0x77, 0xD0)) > 20  # fixes (blue dots)
    assert near((0x8A, 0x4B, 0xAF)) > 20  # the beacon's trail and RSSI plot (purple)
    assert near((0x1F, 0x9D, 0x55)) > 20  # battery line and the GREEN badge


# Issue 14 item 6: a run longer than 20 days crashed the report (StopIteration in plot_svg).
@settings(max_examples=200, deadline=None)
@given(
    span=st.integers(1, 10 * 365 * 86400),
    t0=st.integers(0, 30 * 365 * 86400),
    n=st.integers(0, 50),
)
def test_plots_take_any_span(span: int, t0: int, n: int) -> None:
    pts = [(float(t0 + span * i / max(n - 1, 1)), float(i % 7)) for i in range(n)]
    svg = draw.plot_svg("t", [("s", pts, "#000")], t0, "y", t1=t0 + span)
    ticks = re.findall(r'<text class="tick" x="([\d.]+)"[^>]*>([^<]+)</text>', svg)
    if n == 0:
        assert "no data" in svg
        return
    xs = [float(x) for x, _ in ticks]
    assert 2 <= len(ticks) <= 12 and xs == sorted(xs)  # readable, in order, on the axis
    assert all(50 <= x <= draw.PW for x in xs)


def test_the_summary_survives_a_report_that_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run's summary and metrics come before the report: a report bug loses neither."""

    def broken(*a: object, **kw: object) -> str:
        raise StopIteration

    monkeypatch.setattr(report, "render", broken)
    code = opentag(
        ["sim", "run", str(runner.SCENARIOS / "zone_entry.toml"), "--out", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    assert code == EXIT_CRASH and "Traceback" in err
    assert "zone-entry (seed 2, cpython)" in out and "verdict: green" in out
    assert json.loads((tmp_path / "metrics.json").read_text())["verdict"] == "green"


# Issue 14 item 9: the report as a probation officer reads it, checked on the page Chromium
# renders (layout measured in the browser, colours in its screenshot), not on the HTML text.
DST_NIGHT = (
    (runner.SCENARIOS / "zone_entry.toml")
    .read_text()
    .replace("start = 2026-03-03T15:00:00Z", "start = 2026-03-29T00:50:00Z")  # 01:50 CET
    .replace('name = "zone-entry"', 'name = "dst-night"\ntimezone = "Europe/Berlin"')
    .replace("max_server_delay_s = 240", "")
    + "\n[[coverage_gaps]]\nstart = 2026-03-29T00:58:00Z\nend = 2026-03-29T01:25:00Z\n"
)
PROBE = """<script>
addEventListener('load', () => {
  const box = e => { const b = e.getBoundingClientRect(); return [b.width, b.height]; };
  const map = document.getElementById('map');
  const marks = {};
  for (const k of ['entry', 'approach', 'breach', 'end']) {
    const el = map.querySelector('.mk-' + k);
    marks[k] = el && [el.tagName, getComputedStyle(el).fill, getComputedStyle(el).stroke];
  }
  const rect = e => {
    const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom];
  };
  const zones = [...map.querySelectorAll('.zone')].map(rect);
  const texts = s => [...s.querySelectorAll('text')].map(t => [t.textContent, rect(t)[1]]);
  const out = {map: box(map), maprect: rect(map), trail: box(document.getElementById('trail')),
    marks, zones, text: document.body.innerText,
    gaps: document.querySelectorAll('#timeline .gap').length,
    plots: [...document.querySelectorAll('svg.plot')].map(texts)};
  const pre = document.createElement('pre'); pre.id = 'probe';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def dst(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runner.Result]:
    d = tmp_path_factory.mktemp("dst")
    (d / "zones").symlink_to(runner.SCENARIOS / "zones")
    (d / "dst.toml").write_text(DST_NIGHT)
    res = runner.run_scenario(scenario.load(d / "dst.toml"))
    runner.write(res, d / "out")
    return d / "out", res


def _render(html: Path, tmp: Path) -> dict:
    page = tmp / "probe.html"
    page.write_text(html.read_text().replace("</body>", PROBE + "</body>"))
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}"]
    cmd += ["--window-size=1000,3000", "--dump-dom", page.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, "the probe did not run in the page"
    return json.loads(htmlmod.unescape(m.group(1)))


def test_the_report_answers_what_when_where_and_when_we_knew(
    dst: tuple[Path, runner.Result], tmp_path: Path
) -> None:
    d, res = dst
    rows = [json.loads(x) for x in (d / "events.jsonl").read_text().splitlines()]
    berlin = ZoneInfo("Europe/Berlin")

    def wall(t: int) -> str:  # the oracle: zoneinfo straight from the sim's epoch
        return (EPOCH_2000 + timedelta(seconds=t)).astimezone(berlin).strftime("%H:%M:%S %Z")

    (entry,) = [e for e in res.metrics["truth_events"] if e["kind"] == "entry"]
    breach = next(  # zone 1 (Victim's street), kind 1: the breach alert
        r for r in rows if r["src"] == "tag" and r["ev"] == "A" and r["fields"][:2] == ["1", "1"]
    )
    gap_end = next(r["t"] for r in rows if r.get("ev") == "coverage" and r["up"] and r["t"] > 0)
    acked = next(
        r["t"] for r in rows if r["ev"] == "U" and r["fields"][0] == "1" and r["t"] >= breach["t"]
    )
    assert acked >= gap_end > breach["t"]  # the alert waited for coverage: the test means it
    page = _render(d / "report.html", tmp_path)
    text = page["text"]
    # What, when in local time across the DST switch (01:50 CET start, entry after 03:00 CEST),
    # and when the server had it.
    assert "01:50:00 CET" in text and wall(entry["t"]).endswith("CEST")
    first = text.split("What happened", 1)[1].split("Timeline", 1)[0]
    assert f"Entered exclusion zone Victim's street at 2026-03-29 {wall(entry['t'])}" in first
    assert f"tag alert {wall(breach['t'])}" in first
    assert f"server received it {wall(acked)}" in first
    assert "No network coverage" in first and page["gaps"] == 1
    # Where: the walk fills the map, not a corner of it (the city's zones are far larger).
    mw, mh = page["map"]
    tw, th = page["trail"]
    assert max(tw / (mw - 236), th / mh) > 0.6
    # ... and is not fitted to every zone: the zones reach beyond the map's edges.
    zl, zt = min(z[0] for z in page["zones"]), min(z[1] for z in page["zones"])
    zr, zb = max(z[2] for z in page["zones"]), max(z[3] for z in page["zones"])
    ml, mt, mr, mb = page["maprect"]
    assert zl < ml or zt < mt or zr > mr or zb > mb
    # Approach, breach, end and the true entry: four different marks.
    marks = page["marks"]
    assert all(marks.values()), marks
    assert len({tuple(v) for v in marks.values()}) == 4
    # The beacon-free run has no distance plot; the plots' time axes are on the local clock.
    labels = [[t for t, _ in p] for p in page["plots"]]
    assert any("03:00" in p and "02:00" not in p for p in labels)
    # The screenshot: the coverage gap (orange), the breach diamond (red) are on the page.
    png = tmp_path / "dst.png"
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'shot'}"]
    cmd += ["--window-size=1000,1400", f"--screenshot={png}", (d / "report.html").as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    _, _, shot = read_png(png.read_bytes())
    px = Counter(row[x : x + 3] for row in shot for x in range(0, len(row), 3))

    def near(rgb: tuple[int, int, int], tol: int = 30) -> int:
        return sum(n for c, n in px.items() if all(abs(c[k] - rgb[k]) <= tol for k in range(3)))

    assert near((0xF0, 0xA0, 0x20)) > 50  # the gap on the timeline (and the walk in it)
    assert near((0xD6, 0x45, 0x45)) > 50  # the breach mark and the zone's edge


def test_beacon_distance_is_on_a_log_scale(out: tuple[Path, runner.Result], tmp_path: Path) -> None:
    page = _render(out[0] / "report.html", tmp_path)
    dist = next(p for p in page["plots"] if p[0][0].startswith("True distance"))
    assert "log scale" in dist[0][0]
    y = {t: top for t, top in dist}
    # Decades equally far apart on the screen: 1 to 10 m as tall as 10 to 100 m.
    assert y["1"] > y["10"] > y["100"]
    assert abs((y["1"] - y["10"]) - (y["10"] - y["100"])) < 1.5


def test_time_ticks_follow_the_wall_clock_across_dst() -> None:
    """The night clocks go forward in Berlin (02:00 CET -> 03:00 CEST, 01:00 UTC): hourly ticks
    read 00:00, 01:00, 03:00, 04:00 ..., each at the instant zoneinfo says."""
    berlin = ZoneInfo("Europe/Berlin")
    epoch = EPOCH_2000
    t0 = int((datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc) - epoch).total_seconds())
    ticks = draw.time_ticks(t0, t0 + 6 * 3600, berlin)
    labels = [lab.split()[-1] for _, lab in ticks]
    assert "02:00" not in labels and {"01:00", "03:00", "04:00"} <= set(labels)
    for t, lab in ticks:
        wall = (epoch + timedelta(seconds=t)).astimezone(berlin).strftime("%H:%M")
        assert lab.endswith(wall)


def test_an_unknown_time_zone_is_a_scenario_error(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(DST_NIGHT.replace("Europe/Berlin", "Europe/Berlinn"))
    (tmp_path / "zones").symlink_to(runner.SCENARIOS / "zones")
    with pytest.raises(scenario.ScenarioError, match="timezone: unknown time zone"):
        scenario.load(f)


@pytest.mark.parametrize("which", ["dst", "out"])
def test_the_story_agrees_with_the_metrics(which: str, request: pytest.FixtureRequest) -> None:
    """Each true breach, its alert and the server's receipt: the same as the run's metrics."""
    _, res = request.getfixturevalue(which)
    m = res.metrics
    eps = story.episodes(res.run, m)
    assert len(eps) == m["truth_zone_entries"] + m["truth_curfew_breaches"]
    hit = [e for e in eps if e.alert is not None]
    assert len(hit) == m["alerts_matched"] and len(eps) - len(hit) == m["missed_entries"]
    if hit:
        assert max(max(0, e.alert - e.t) for e in hit) == m["alert_delay_max_s"]
        got = [e.at_server - e.t for e in hit if e.at_server is not None]
        assert max(got) == m["server_delay_max_s"]
