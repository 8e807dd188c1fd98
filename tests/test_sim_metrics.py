"""Metrics: zone truth from shapely, alert matching on synthetic streams, expectations."""

from __future__ import annotations

import numpy as np
import simworld
from shapely.geometry import box
from taghost.units import M_PER_DEG
from tagsim import metrics
from tagsim.metrics import TruthEvent, match_alerts
from tagsim.scenario import Zone, parse


def test_zone_truth_entries_and_curfew_breaches() -> None:
    t = np.arange(0, 10 * 3600, 1, dtype=np.int64) + simworld.START - 8 * 3600  # 00:00-10:00
    lon = np.where((t % 3600) < 600, 13.375, 13.365)  # 10 minutes an hour east of 13.37
    ser = {"t": t, "lat": np.full(len(t), 52.52), "lon": lon}
    ex = Zone(1, "x", "exclusion", box(13.37, 52.5, 13.38, 52.53), None)
    home = Zone(2, "home", "inclusion", box(13.36, 52.5, 13.37, 52.53), None)
    ev = metrics.zone_truth((ex, home), ser, {2: [(int(t[0]), int(t[0]) + 6 * 3600)]})
    entries = [e for e in ev if e.kind == "entry"]
    breaches = [e for e in ev if e.kind == "curfew"]
    assert len(entries) == 10 and all((e.t - t[0]) % 3600 == 0 for e in entries)
    assert len(breaches) == 6  # outside home during the 00:00-06:00 curfew, once an hour
    assert {e.id for e in entries} == {1} and {e.id for e in breaches} == {2}


def test_alert_matching_delays_false_and_missed() -> None:
    truth = [
        TruthEvent(1000, 1, "entry", 1500),
        TruthEvent(5000, 1, "entry", 5400),
        TruthEvent(9000, 2, "entry", None),  # still inside when the run ends
    ]
    alerts = [
        (1060, 1, 1),  # 60 s late: detected
        (1070, 1, 1),  # again while still inside: a repeat, not false
        (3000, 1, 1),  # long after the first episode ended, long before the next: false
        (4950, 1, 1),  # 50 s early (fix noise at the edge): still matched, delay 0
        (5100, 1, 0),  # a leave: not scored
        (9000, 3, 1),  # wrong zone: false, and zone 2's entry is missed
    ]
    r = match_alerts(truth, alerts)
    assert r["detected"] == 2 and r["false"] == 2 and r["repeats"] == 1 and r["missed"] == 1
    assert r["delays_s"] == [60, 0] and r["delay_max_s"] == 60
    assert match_alerts([], [])["delay_max_s"] is None
    late = match_alerts([TruthEvent(0, 1, "entry", 10)], [(metrics.MATCH_S + 1, 1, 1)])
    assert late["missed"] == 1 and late["false"] == 1


def test_expectations_pass_fail_pending() -> None:
    d = simworld.doc(
        expect={
            "min_fixes": 10,
            "max_fix_error_p95_m": 1.0,
            "false_alerts": 0,
            "battery_empty": False,
            "pending": ["false_alerts"],
        }
    )
    sc = parse(d, "<t>")
    m = {"fixes_recorded": 12, "fix_error_p95_m": 3.5, "false_alerts": None, "battery_empty": False}
    st = {c["key"]: c["status"] for c in metrics.check(sc, m)}
    assert st == {
        "min_fixes": "pass",
        "max_fix_error_p95_m": "fail",
        "false_alerts": "pending",
        "battery_empty": "pass",
    }
    sc.pending = frozenset()
    assert {c["key"]: c["status"] for c in metrics.check(sc, m)}["false_alerts"] == "fail"
    m["false_alerts"] = 0
    assert {c["key"]: c["status"] for c in metrics.check(sc, m)}["false_alerts"] == "pass"


def test_encounter_truth() -> None:
    t = np.arange(1000, dtype=np.int64)
    tag = {"t": t, "lat": np.full(1000, 52.52), "lon": np.full(1000, 13.37)}
    # metres east of the tag: close 31-59, apart 60 s, close again (same encounter), then
    # apart for longer than MERGE_S (300 s) and close again at 700 (a second encounter)
    east = np.where(((t > 30) & (t < 60)) | ((t >= 120) & (t < 150)) | (t >= 700), 20.0, 200.0)
    b = {"t": t, "lat": tag["lat"], "lon": 13.37 + east / (M_PER_DEG * np.cos(np.radians(52.52)))}
    ev = metrics.encounter_truth(tag, b, 50)
    assert [(e.t, e.kind, e.until) for e in ev] == [
        (31, "encounter", 150),
        (700, "encounter", None),
    ]
