"""The planner drives the receiver (gnss_plan 1): the core's command bytes and rail actions go
through the simulated receiver, which reads them with pyubx2/pynmea2 (tagsim.gnsscmd), so the
start each fix gets (hot after backup, cold after a rail cut without backup) is the one the
mode really gives. Both runtimes give the same streams."""

from __future__ import annotations

import dataclasses

from tagsim import engine, runner, scenario


def _sc(name: str, plan: int = 1, **over: object) -> scenario.Scenario:
    sc = scenario.load(runner.SCENARIOS / f"{name}.toml")
    tag = dataclasses.replace(sc.tag, more=tuple(dict(sc.tag.more, gnss_plan=plan).items()))
    return dataclasses.replace(sc, tag=tag, **over)


def _minute(sc: scenario.Scenario) -> scenario.Scenario:
    """The model plan at the normal rate (still_fix_s 0): what these tests state of one fix a
    minute; the still-wearer rate's own figures are tests/test_sim_still.py's."""
    tag = dataclasses.replace(sc.tag, more=tuple(dict(sc.tag.more, still_fix_s=0).items()))
    return dataclasses.replace(sc, tag=tag)


def _fixes(r: engine.Run) -> list[int]:
    return [t for t, ln in r.log.tag_lines if ln.startswith("F ")]


def test_model_plan_streams_are_identical_in_both_runtimes() -> None:
    sc = _sc("commute", duration=3600)
    a = engine.run(sc, "cpython", ttff="field")
    b = engine.run(sc, "micropython", ttff="field")
    assert a.log.tag_lines == b.log.tag_lines
    assert a.log.world == b.log.world
    assert a.receiver.heard == b.receiver.heard
    # the receiver really was commanded: set-up ACKed, backup entered and woken from
    heard = [(c, o) for _, c, o in a.receiver.heard]
    assert ("CFG-CFG", "ack") in heard and ("RXM-PMREQ", "backup") in heard
    assert ("wake", "woken") in heard
    assert a.receiver.ignored_bytes == 0  # every byte the core wrote was a command it knew


def test_one_fix_a_minute_with_field_hot_starts_keeps_the_trail() -> None:
    # legacy: the next search starts 60 s after the last fix, so the trail is 60 s + TTFF
    # apart; the model starts early by the predicted lock time and lands near the minute
    day = 6 * 3600
    fixed = engine.run(_sc("week", 0, duration=day), ttff="field")
    model = engine.run(_minute(_sc("week", 1, duration=day)), ttff="field")
    gaps = sorted(b - a for a, b in zip(_fixes(model), _fixes(model)[1:], strict=False))
    old = sorted(b - a for a, b in zip(_fixes(fixed), _fixes(fixed)[1:], strict=False))
    assert gaps[len(gaps) // 2] <= 62 < old[len(old) // 2]
    assert model.receiver.starts["hot"] > 300 and model.receiver.starts["cold"] <= 2
    # and each fix costs no more receiver charge than the fixed plan's
    per_fix = model.power.mah["gnss"] / len(_fixes(model))
    assert per_fix <= fixed.power.mah["gnss"] / len(_fixes(fixed)) * 1.05
    # nor more MCU awake: a timer while the MCU already reads epochs is no wake from deep
    # sleep (charged as one before: 1.32x the fixed plan's MCU per fix). Its sleep costs more:
    # with the receiver in backup the MCU light-sleeps (the device's rule, tagcore.app.app
    # deep_sleep_ok), where the fixed plan's rail cut lets it sleep deeply (no zones here):
    # 0.79 mA through the seconds the world jumped (1.5x the fixed plan's MCU per fix in all)
    m = model.scenario.board.current_ma["mcu"]
    asleep_h = (model.log.end - model.scenario.start - sum(model.log.gnss_mode_s.values())) / 3600
    light = (m["light_sleep"] - m["deep_sleep"]) * asleep_h
    mcu = (model.power.mah["mcu"] - light) / len(_fixes(model))
    assert mcu <= fixed.power.mah["mcu"] / len(_fixes(fixed)) * 1.1


def test_backup_is_entered_after_each_fix_and_no_receiver_searches_when_off() -> None:
    r = engine.run(_sc("week", 1, duration=2 * 3600), ttff="field")
    modes = [(t, int(ln.split()[2])) for t, ln in r.log.tag_lines if ln.startswith("M ")]
    backups = [t for t, c, o in r.receiver.heard if c == "RXM-PMREQ" and o == "backup"]
    asked = [t for t, m in modes if m == 2]  # GNSS_BACKUP
    assert len(asked) > 50
    for t in asked:  # the command reached the receiver within a second of the decision
        assert any(t <= b <= t + 1 for b in backups), t
    # seconds the receiver ran: tracking only for the fixes, the holds and ephemeris refresh
    s = r.log.gnss_mode_s
    assert s.get("tracking continuous", 0) <= 3 * len(_fixes(r)) + 2 * 30 + 60


def test_a_receiver_without_backup_gets_the_mode_the_model_says() -> None:
    # UC6580 (Heltec): no soft sleep, RAM lost with the rail. At 1 fix a minute a cold start
    # (up to 65 s in the field) cannot fit: the model keeps it tracking instead of the fixed
    # plan's cold start every minute, and keeps the 1-minute trail the fixed plan cannot
    sc = dict(duration=3 * 3600)
    fixed = engine.run(_sc("battery_rundown", 0, **sc), ttff="field")
    model = engine.run(_minute(_sc("battery_rundown", 1, **sc)), ttff="field")
    assert fixed.receiver.starts["hot"] == 0 and fixed.receiver.starts["cold"] > 90
    assert model.receiver.starts["cold"] == 1  # one start, then tracking
    assert len(_fixes(model)) >= 175 > len(_fixes(fixed)) + 50


def test_a_long_encounter_costs_half_the_scanning_and_is_still_detected() -> None:
    # beacon_indoor: the victim's beacon stays near for most of an hour. Once K_NEAR is out,
    # presence is checked every minute instead of by back-to-back scans
    fixed = runner.run_scenario(_sc("beacon_indoor", 0))
    model = runner.run_scenario(_sc("beacon_indoor", 1))
    mpy = runner.run_scenario(_sc("beacon_indoor", 1), "micropython")
    assert not model.red and model.metrics["encounters_detected"] == 1
    assert model.run.power.mah["ble"] < 0.6 * fixed.run.power.mah["ble"]
    assert model.run.log.tag_lines == mpy.run.log.tag_lines


def test_death_and_reboot_with_the_model_plan_are_identical_in_both_runtimes() -> None:
    # A reboot is a reset: the MicroPython tag boots in a new interpreter from the same flash.
    # Rebooted inside its old heap (fragmented by the model plan's modules), the Heltec's
    # 96 KB MicroPython tag died in the new Store's 4 KB buffer where the device would not.
    sc = _sc("battery_rundown", battery_mah=40.0, duration=7 * 3600)
    sc = dataclasses.replace(
        sc, charging=(scenario.Window(sc.start + 5 * 3600, sc.start + 6 * 3600),)
    )
    a, b = engine.run(sc, "cpython"), engine.run(sc, "micropython")
    assert a.log.died_at is not None and any(w["ev"] == "boot" for w in a.log.world)
    assert b.log.out_of_memory is None
    assert a.log.tag_lines == b.log.tag_lines
    assert a.log.world == b.log.world


def test_the_model_plan_with_zones_outgrows_an_esp32_without_psram_and_says_where() -> None:
    # Why gnss_plan 0 stays the default (docs/app.md): with zones the model plan needs 136 KB
    # of heap from ROMFS (as the no-PSRAM boards deploy; the whole zone_entry, 4 KB steps), and
    # an ESP32 without PSRAM gives 96 KB. The tag runs out after its
    # boot; the run ends there and names the call (the driver's traceback goes to stderr, not
    # into the reply stream where it was read as a crash of the simulator).
    from tagsim import hooks, runtime

    sc = _sc("zone_entry", duration=1800)
    tag = runtime.make("micropython", zone_blob=hooks.zone_blob(sc), heap=runtime.ESP32_HEAP)
    r = engine.run(sc, tag=tag)
    assert r.log.out_of_memory not in (None, "boot"), r.log.out_of_memory
    assert any(ln.startswith("F ") for _, ln in r.log.tag_lines)  # it ran before it ran out


def test_the_fixed_plan_with_a_5_s_cap_still_gets_its_first_cold_fix() -> None:
    # max_search_s 5 (the lowest the configuration allows): the first start is cold (26-60 s
    # in the field), so a cap that stays at 5 s never lets a search finish and the tag never
    # has a fix. After the first failure the cap covers twice the profile's worst field cold
    # start (the model plan's rule too), and the fixed plan's fixes come; both runtimes alike.
    sc = _sc("commute", 0, duration=1800)
    tag = dataclasses.replace(sc.tag, more=tuple(dict(sc.tag.more, max_search_s=5).items()))
    sc = dataclasses.replace(sc, tag=tag)
    a = engine.run(sc, "cpython", ttff="field")
    b = engine.run(sc, "micropython", ttff="field")
    assert a.log.tag_lines == b.log.tag_lines
    lost = [t for t, ln in a.log.tag_lines if ln.startswith("L ")]
    assert lost and lost[0] - sc.start <= 6  # the first search given up at its 5 s
    fixes = _fixes(a)
    assert len(fixes) >= 10 and a.receiver.starts["cold"] >= 1  # (none with the cap at 5 s)
