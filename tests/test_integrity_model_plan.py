"""The spoofer on the model plan (gnss_plan 1: the u-blox set-up, backup between fixes, cyclic
tracking while alarmed): a spoofer replaying the wearer's home raises the spoofing alert, as
it does on the fixed plan (~100 s in). It did not: the set-up turned GSV off (no C/N0 to judge),
and in power save the receiver reports the spoofer's C/N0 below the rule's old 40 dB-Hz floor."""

from __future__ import annotations

import pytest
from tagcore.gnss import integrity as I
from tagsim import engine, scenario, wear

BOARDS = {"ublox_m8": "tbeam_v12_axp2101", "ublox_m10": "tbeam_supreme_m10"}


@pytest.mark.parametrize("fix_s", [60, 10])
@pytest.mark.parametrize("family", sorted(BOARDS))
def test_the_model_plan_names_the_spoofer(family: str, fix_s: int) -> None:
    doc = wear.attack_day("spoofer", "urban", 7, per_day=1)
    doc.update(duration="3h", board=BOARDS[family], tag={"gnss_plan": 1, "fix_interval_s": fix_s})
    run = engine.run(scenario.parse(doc, "<test>"))
    a = run.scenario.attacks[0]
    got = [(now, int(ln.split()[2])) for now, ln in run.log.tag_lines if ln.startswith("I ")]
    alerts = [(now, k) for now, k in got if k < I.K_END]
    assert [k for _, k in alerts] == [I.K_SPOOFING], got
    assert a.start <= alerts[0][0] <= a.start + 120, (alerts, a.start)  # within 2 minutes
