"""The scenario library runs green: the short scenarios in full, the week for its first day
(the whole week runs in `make bench`)."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from tagsim import runner, scenario

SHORT = [
    "commute",
    "zone_entry",
    "curfew_night",
    "edge_walk",
    "beacon_indoor",
    "tunnel_canyon",
    "battery_rundown",
    "zone_entry_server",  # through the real opentag server (tests/test_sim_uplink.py)
]


@functools.cache
def result(name: str) -> runner.Result:
    return runner.run_scenario(scenario.load(runner.SCENARIOS / f"{name}.toml"))


@pytest.mark.parametrize("name", SHORT)
def test_scenario_runs_green(name: str) -> None:
    res = result(name)
    bad = [c for c in res.checks if c["status"] == "fail"]
    assert not bad, bad
    assert any(c["status"] == "pass" for c in res.checks)


def test_scenarios_show_what_they_are_named_for() -> None:
    def m(name: str) -> dict:
        return result(name).metrics

    assert m("zone_entry")["truth_zone_entries"] == 1
    assert m("commute")["truth_zone_entries"] == 0
    assert m("curfew_night")["truth_curfew_breaches"] == 1
    # the zone core confirms the real entries and breaches, and nothing near the edge
    assert m("zone_entry")["alerts_matched"] == m("curfew_night")["alerts_matched"] == 1
    ew = m("edge_walk")
    assert ew["truth_zone_entries"] == 0 and ew["zone_alerts"] == 0
    assert ew["fix_error_p95_m"] > 10  # the fixes do wander: the edge is 25-30 m away
    tc = m("tunnel_canyon")
    assert tc["loc_lost_events"] >= 1  # no fix in the tunnel
    br = m("battery_rundown")
    assert br["battery_empty"] and br["gnss_starts"]["hot"] == 0  # no backup: cold every time
    bi = m("beacon_indoor")
    assert (
        bi["truth_encounters"] >= 1
        and bi["beacon_adv_heard"] > 0
        and bi["encounters_detected"] == 1
    )


def test_first_day_of_the_week() -> None:
    sc = dataclasses.replace(scenario.load(runner.SCENARIOS / "week.toml"), duration=86400)
    res = runner.run_scenario(sc)
    m = res.metrics
    assert 1300 <= m["fixes_recorded"] <= 1450
    assert m["uploads_failed"] >= 4  # the nightly coverage gap
    assert m["charged_mah"] > 0 and m["battery_end_pct"] > 80
