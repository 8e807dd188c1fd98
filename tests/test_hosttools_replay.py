"""`opentag replay` of a pulled log: the alerts the current core raises with the tag's zones,
and `--truth FILE.gpx` error figures against a reference track whose offset is known
(taghost.samplelog: the core's store logs a walk whose fixes sit OFFSET_M north of the truth)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from taghost import alertkinds as K
from taghost import samplelog as S
from vboardkit import opentag


@pytest.fixture
def pulled(tmp_path: Path) -> Path:
    S.write_sample(tmp_path / "pulled")
    return tmp_path / "pulled"


def test_replay_pulled_log_raises_the_breach(pulled: Path) -> None:
    r = opentag("replay", str(pulled), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["fixes"] == S.N_FIXES - (S.GAP[1] - S.GAP[0])
    stored = [(a["alert"], a["zone"]) for a in doc["alerts"] if a["stored"]]
    assert stored == [(K.ZONE_BREACH, S.ZONE_ID), (K.ZONE_BREACH_END, S.ZONE_ID)], doc["alerts"]
    assert doc["alerts"][0]["alert"] == K.APPROACH  # the wearer's warning comes first
    breach = next(a for a in doc["alerts"] if a["alert"] == K.ZONE_BREACH)
    # the walk enters the 100 m circle 200 m from its start (at 143 s): confirmed after it
    assert S.T0 + 143 <= breach["t"] <= S.T0 + 143 + 60
    text = opentag("replay", str(pulled))
    assert "alerts the current core raises: 3" in text.stdout and K.ZONE_BREACH in text.stdout
    # the sample's store logs no zone event; its low battery is an alert the server opens
    assert "alerts the tag logged: 1" in text.stdout and K.LOW_BATTERY in text.stdout


def test_replay_truth_error_figures(pulled: Path) -> None:
    truth = pulled / "phone.gpx"
    r = opentag("replay", str(pulled), "--truth", str(truth), "--json")
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)["truth"]
    assert t["scored"] == S.N_FIXES - (S.GAP[1] - S.GAP[0]) and t["not_scored"] == 0
    for k in ("median_m", "p95_m", "max_m"):
        assert abs(t[k] - S.OFFSET_M) < 0.05, t  # a microdegree of rounding is 0.11 m at most
    r = opentag("replay", str(pulled), "--truth", str(truth))
    assert f"error median {t['median_m']} m, p95 {t['p95_m']} m" in r.stdout


def test_replay_nmea_capture_with_truth(pulled: Path) -> None:
    # an NMEA capture's accepted fixes are scored the same way (the corpus demo capture: another
    # place and year than the reference, so nothing is scored and everything is counted)
    r = opentag("replay", "--json", "--truth", str(pulled / "phone.gpx"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["truth"]["scored"] == 0 and doc["truth"]["not_scored"] > 0


def test_replay_user_errors(pulled: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gpx"
    bad.write_text("not xml")
    r = opentag("replay", str(pulled), "--truth", str(bad))
    assert r.returncode == 2 and "not a GPX file" in r.stderr and "Traceback" not in r.stderr
    # well-formed XML with a point gpxpy cannot read: its own GPXException, not an XML error
    bad.write_text('<gpx><trk><trkseg><trkpt lat="x" lon="1"/></trkseg></trk></gpx>')
    r = opentag("replay", str(pulled), "--truth", str(bad))
    assert r.returncode == 2 and "not a GPX file" in r.stderr and "Traceback" not in r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = opentag("replay", str(empty))
    assert r.returncode == 2 and "no log segments" in r.stderr
    (pulled / "prov" / "zones.bin").write_bytes(b"\x00" * 40)
    r = opentag("replay", str(pulled))
    assert r.returncode == 2 and "zone blob is refused" in r.stderr
    shutil.rmtree(pulled / "prov")
    r = opentag("replay", str(pulled))
    assert r.returncode == 0 and "give --zones FILE" in r.stdout
