"""A run's files: metrics JSON, JSONL events, GeoJSON and GPX that their readers accept, and an
HTML report that a real headless Chromium renders offline into a non-blank picture."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import gpxpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pngread import read_png
from shapely.geometry import shape
from taghost.cli import main as opentag
from taghost.errors import EXIT_CRASH
from tagsim import report, runner, scenario

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
    svg = report.plot_svg("t", [("s", pts, "#000")], t0, "y", t1=t0 + span)
    ticks = re.findall(r'<text class="tick" x="([\d.]+)"[^>]*>([^<]+)</text>', svg)
    if n == 0:
        assert "no data" in svg
        return
    xs = [float(x) for x, _ in ticks]
    assert 2 <= len(ticks) <= 12 and xs == sorted(xs)  # readable, in order, on the axis
    assert all(50 <= x <= report.PW for x in xs)


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
