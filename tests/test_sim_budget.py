"""The battery budget in the simulator: a configured target life is met within 10 % across
seeds (where the plan as configured would fall far short), every degradation and warning is a
stored event, and the critical warning comes well before the battery is empty. The same stream
in both runtimes."""

from __future__ import annotations

import dataclasses

import pytest
from tagsim import engine, runner, scenario


def _sc(
    target_h: int, mah: float, seed: int | None = None, hours: float = 0, still: int = 0
) -> scenario.Scenario:
    # still_fix_s 0: the budget's ladder on its own, as it was measured; with the still-wearer
    # rate (90 s) the plan lasts 7.4 h of 12 instead of 5.8 (test_the_budget_meets_..._still_rate)
    sc = scenario.load(runner.SCENARIOS / "week.toml")
    more = dict(sc.tag.more, gnss_plan=1, power_target_h=target_h, still_fix_s=still)
    over: dict = dict(
        tag=dataclasses.replace(sc.tag, more=tuple(more.items())),
        battery_mah=mah,
        battery_initial_pct=100,
        duration=int((hours or 2 * target_h) * 3600),
        charging=(),
    )
    if seed is not None:
        over["seed"] = seed
    return dataclasses.replace(sc, **over)


def _life_h(r: engine.Run) -> float:
    return ((r.log.died_at or r.log.end) - r.scenario.start) / 3600


def _lines(r: engine.Run, kind: str) -> list[tuple[int, list[str]]]:
    return [(t, ln.split()) for t, ln in r.log.tag_lines if ln.split()[0] == kind]


def test_without_a_target_the_small_cell_lasts_half_of_it() -> None:
    r = engine.run(_sc(0, 60.0, hours=24), ttff="field")
    assert _life_h(r) < 0.55 * 12  # the reference the next test must more than double
    assert not _lines(r, "D")


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_the_budget_meets_the_target_within_ten_percent(seed: int) -> None:
    r = engine.run(_sc(12, 60.0, seed), ttff="field")
    assert 0.9 * 12 <= _life_h(r) <= 1.1 * 12
    levels = [int(f[2]) for _, f in _lines(r, "D")]
    assert levels and max(levels) >= 3  # it had to give up trail resolution, and said so
    end = r.log.died_at or r.log.end
    warn = {int(f[2]): t for t, f in _lines(r, "W")}
    assert end - warn[3] >= 30 * 60  # critical: at least the commercial floor before empty
    assert end - warn[2] >= 2 * 3600  # low: hours to get to a charger
    # each degradation and warning is a stored record (EV_POWER), and the warnings are
    # alerts: an upload follows at once
    ups = [t for t, f in _lines(r, "U") if f[2] == "1"]
    assert all(any(w <= u <= w + 1 for u in ups) for w in warn.values())


def test_the_budget_meets_the_target_within_ten_percent_with_the_still_rate() -> None:
    ref = engine.run(_sc(0, 60.0, hours=24, still=90), ttff="field")
    assert _life_h(ref) < 0.7 * 12  # the still rate alone falls short of the target
    r = engine.run(_sc(12, 60.0, 3, still=90), ttff="field")
    assert 0.9 * 12 <= _life_h(r) <= 1.1 * 12
    assert [f for _, f in _lines(r, "D")]  # and the budget still had to degrade


def test_the_warnings_open_alerts_at_the_real_server() -> None:
    # The tag's real uplink into the real server (SQLite): each warning the tag raised is an
    # open alert there (power_low, power_critical), and the level steps opened none.
    sl = scenario.ServerLink(None, 2.0, 0.0, 30.0, b"SIMTAG01", bytes(range(7, 39)))
    r = engine.run(dataclasses.replace(_sc(4, 20.0, hours=5), server=sl), ttff="field")
    assert _lines(r, "D") and r.server is not None
    want = sorted((t, {"2": "power_low", "3": "power_critical"}[f[2]]) for t, f in _lines(r, "W"))
    assert len(want) == 2
    got = sorted((a["t"], a["kind"]) for a in r.server["alerts"] if a["kind"].startswith("power"))
    assert got == want


def test_budget_streams_are_identical_in_both_runtimes() -> None:
    sc = _sc(4, 20.0, hours=5)
    a = engine.run(sc, "cpython", ttff="field")
    b = engine.run(sc, "micropython", ttff="field")
    assert _lines(a, "D") and _lines(a, "W")
    assert a.log.tag_lines == b.log.tag_lines
