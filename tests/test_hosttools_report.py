"""`opentag report`: one self-contained HTML page for a pulled log, a replay's JSON or a GeoJSON
export; rendered in real headless Chromium and its screenshot inspected."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from pngread import read_png
from taghost import samplelog as S
from vboardkit import opentag

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if p := shutil.which(name):
            return p
    pytest.fail("no Chromium: `make test` installs Debian's chromium package", pytrace=False)


def screenshot(html: Path, png: Path, size: str = "1000,1500") -> tuple[int, int, list[bytes]]:
    cmd = [
        chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={png.parent / 'profile'}",
        f"--window-size={size}",
        f"--screenshot={png}",
        html.as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=True)
    return read_png(png.read_bytes())


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    S.write_sample(tmp_path / "pulled")
    return tmp_path / "pulled"


def test_report_of_a_pulled_log(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = opentag("report", str(sample), "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    assert "<script" not in html and not re.search(r"(src|href)=['\"]?https?:", html)
    text = re.sub(r"<[^>]+>", " ", html)
    assert "ZONE BREACH (alert) (zone 7)" in text and "zone breach over (zone 7)" in text
    assert "no fix for 1 min 5 s" in text  # the 12 fixes the sample leaves out
    assert "low battery at 20 %" in text
    assert html.count('class="gap"') == 2  # on the map and on the timeline
    w, h, rows = screenshot(out, tmp_path / "shot.png")
    assert (w, h) == (1000, 1500)
    px: Counter[bytes] = Counter()
    for row in rows[::2]:
        for x in range(0, len(row), 6):
            px[row[x : x + 3]] += 1

    def near(rgb: tuple[int, int, int], tol: int = 30) -> int:
        return sum(n for c, n in px.items() if all(abs(c[k] - rgb[k]) <= tol for k in range(3)))

    assert px.most_common(1)[0][1] < 0.85 * sum(px.values())  # not a blank page
    assert near((0x1F, 0x77, 0xD0)) > 50  # the trail and fixes (blue)
    assert near((0xD6, 0x45, 0x45)) > 20  # the breach diamond and band (red)
    assert near((0xF0, 0xA0, 0x20)) > 10  # the gap (orange)
    assert near((0x1F, 0x9D, 0x55)) > 5  # the battery event (green)


def test_report_shows_curfew_windows(sample: Path, tmp_path: Path) -> None:
    # the Bournemouth example's curfew (19:00-07:00 Europe/London) covers the sample's walk
    # (23:06-23:20 UTC in December: the same on the London clock)
    zones = (
        Path(__file__).resolve().parent.parent / "host/taghost/examples/zones-bournemouth.geojson"
    )
    out = tmp_path / "c.html"
    r = opentag("report", str(sample), "--zones", str(zones), "--out", str(out))
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    m = re.search(
        r'<rect class="curfew"[^>]*><title>curfew: Home \(curfew\) ([^ ]+) to ([^<]+)<', html
    )
    assert m, "no curfew band on the timeline"
    assert m.group(1) == "2026-12-07T19:00:00.000Z" and m.group(2) == "2026-12-08T07:00:00.000Z"
    assert "curfew: Home (curfew) until 07:00 UTC" in html


def test_report_of_a_replay_and_of_an_export(sample: Path, tmp_path: Path) -> None:
    rj = tmp_path / "replay.json"
    r = opentag("replay", "--json")  # the corpus's demo capture
    assert r.returncode == 0, r.stderr
    rj.write_text(r.stdout)
    accepted = sum(f["accepted"] for f in json.loads(r.stdout)["fixes"])
    r = opentag("report", str(rj), "--out", str(tmp_path / "replay.html"))
    assert r.returncode == 0, r.stderr
    assert f"replay, {accepted} fixes" in r.stdout
    # a GeoJSON export in the server's format (the pull writes the same one)
    r = opentag("pull", "--from-dir", str(sample / "log"), "--out", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    r = opentag("report", str(tmp_path / "p" / "fixes.geojson"), "--out", str(tmp_path / "e.html"))
    assert r.returncode == 0, r.stderr
    assert "server export, 148 fixes" in r.stdout
    _, _, rows = screenshot(tmp_path / "e.html", tmp_path / "e.png", "900,700")
    assert sum(row.count(bytes((0x1F, 0x77, 0xD0))) for row in rows) > 50


def test_report_user_errors(tmp_path: Path) -> None:
    r = opentag("report", str(tmp_path / "nope"), "--out", str(tmp_path / "o.html"))
    assert r.returncode == 2 and "no such file" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    r = opentag("report", str(bad), "--out", str(tmp_path / "o.html"))
    assert r.returncode == 2 and "not a pulled log" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    r = opentag("report", str(tmp_path / "bin"), "--out", str(tmp_path / "o.html"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
