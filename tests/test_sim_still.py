"""The still-wearer rate in the simulator (model plan, still_fix_s 90 by default): the week's
first hours at home and at work, field TTFF. The rate fires, the receiver's charge falls, the
trail while moving keeps one fix a minute, and both runtimes give the same streams."""

from __future__ import annotations

import dataclasses
import itertools

from tagsim import engine, runner, scenario


def _sc(still: int, hours: float) -> scenario.Scenario:
    sc = scenario.load(runner.SCENARIOS / "week.toml")
    more = dict(sc.tag.more, gnss_plan=1, still_fix_s=still)
    tag = dataclasses.replace(sc.tag, more=tuple(more.items()))
    return dataclasses.replace(sc, tag=tag, duration=int(hours * 3600))


def _fixes(r: engine.Run) -> list[int]:
    return [t for t, ln in r.log.tag_lines if ln.startswith("F ")]


def test_a_still_wearer_costs_less_and_the_commute_keeps_the_minute_trail() -> None:
    on = engine.run(_sc(90, 3), ttff="field")
    off = engine.run(_sc(0, 3), ttff="field")
    f_on, f_off = _fixes(on), _fixes(off)
    gaps = [b - a for a, b in itertools.pairwise(f_on)]
    assert sum(1 for g in gaps if g >= 85) >= 20  # slowed at home and at work
    assert len(f_on) < 0.8 * len(f_off)
    assert on.power.mah["gnss"] < 0.8 * off.power.mah["gnss"]
    # 06:30 + 45 min at home, then the walk, 6 min at the stop and the bus: as on the normal
    # rate there (its gaps are 60 s +- the hot start's spread: up to 78 s)
    t0, t1 = on.scenario.start + 45 * 60 + 100, on.scenario.start + 75 * 60

    def ride(f: list[int]) -> list[int]:
        return [b - a for a, b in itertools.pairwise(f) if t0 <= a < t1]

    assert ride(f_on) and max(ride(f_on)) <= max(ride(f_off)) + 5, (ride(f_on), ride(f_off))


def test_both_runtimes_give_the_same_streams_with_the_still_rate() -> None:
    sc = _sc(90, 1)
    a = engine.run(sc, "cpython", ttff="field")
    b = engine.run(sc, "micropython", ttff="field")
    assert any(y - x >= 85 for x, y in itertools.pairwise(_fixes(a)))
    assert a.log.tag_lines == b.log.tag_lines
    assert a.log.world == b.log.world
