"""The simulator charges the MCU's sleep by the core's one rule (tagcore.app.app.deep_sleep_ok,
TagApp.may_deepsleep), the rule the device shell sleeps by: deep sleep (0.01 mA on the T-Beam's
ESP32) only where nothing in RAM must survive, light sleep (0.8 mA) where a zone or proximity
core, a BLE stack or a receiver in backup keeps the shell from deep sleep. It charged deep sleep
everywhere, which made the battery figures optimistic against the device."""

from __future__ import annotations

import dataclasses

import simworld
from tagsim import engine, runner, runtime, scenario


class FarZones:
    """A zone core configured but never near: the same fixes, only RAM state to keep."""

    def wanted_interval(self, now: int) -> None:
        return None

    def on_fix(self, now: int, fix: object) -> list:
        return []

    def on_no_fix(self, now: int) -> list:
        return []


def _sc(hours: float, **tag: object) -> scenario.Scenario:
    d = simworld.doc(tag={"upload_interval_s": 3600, **tag})
    d["itinerary"] = [{"stay": "park", "for": int(hours * 3600)}]
    return scenario.parse(d, "<t>")


def _mcu(sc: scenario.Scenario, zones: object = None) -> engine.Run:
    return engine.run(sc, tag=runtime.LocalTag(zones=zones), ttff="field")


def test_a_zone_tag_light_sleeps_between_fixes_where_a_plain_tracker_deep_sleeps() -> None:
    sc = _sc(2)
    plain, zoned = _mcu(sc), _mcu(sc, FarZones())
    assert plain.log.tag_lines == zoned.log.tag_lines  # the same fixes, searches, uploads
    m = sc.board.current_ma["mcu"]
    light, deep = m["light_sleep"], m["deep_sleep"]
    on = sum(plain.log.gnss_seconds.values())  # the fixed plan: the MCU reads epochs then
    asleep_h = (plain.log.end - sc.start - on) / 3600
    assert asleep_h > 1.5  # hot starts: most of the time between fixes is sleep
    extra = zoned.power.mah["mcu"] - plain.power.mah["mcu"]
    # every second between fixes costs the zone tag the light sleep, not the deep one (the
    # plain tracker light-sleeps too where a long search leaves less than DEEPSLEEP_MIN_S)
    assert 0.9 * (light - deep) * asleep_h <= extra <= (light - deep) * asleep_h + 1e-9
    assert zoned.power.mah["mcu"] / asleep_h >= light  # its mean between fixes: >= 0.8 mA


class AlwaysDeep(runtime.LocalTag):
    """What the simulator charged before: the MCU in deep sleep whenever it sleeps."""

    def _out(self, *a: int) -> list[str]:
        out = super()._out(*a)
        self.deep = True
        return out


def test_the_model_plan_light_sleeps_while_the_receiver_is_in_backup() -> None:
    sc = _sc(2, gnss_plan=1, still_fix_s=0)
    r = _mcu(sc)
    before = engine.run(sc, tag=AlwaysDeep(), ttff="field")
    assert r.log.tag_lines == before.log.tag_lines
    # the seconds the world jumped: the receiver in backup on its rail until woken
    asleep_s = r.log.end - sc.start - sum(r.log.gnss_mode_s.values())
    assert asleep_s > 3600 and r.receiver.starts["hot"] > 60
    m = sc.board.current_ma["mcu"]
    extra = r.power.mah["mcu"] - before.power.mah["mcu"]
    assert extra >= (m["light_sleep"] - m["deep_sleep"]) * asleep_s / 3600


def test_both_runtimes_charge_the_same_sleep() -> None:
    # the MicroPython lockstep tag answers the rule too (its reply's DEEP field): a plain
    # tracker, and a zone tag (zone_entry: its zone core built inside from the same blob)
    sc = _sc(0.5)
    a, b = engine.run(sc, "cpython", ttff="field"), engine.run(sc, "micropython", ttff="field")
    assert a.log.tag_lines == b.log.tag_lines and a.power.mah == b.power.mah
    z = scenario.load(runner.SCENARIOS / "zone_entry.toml")
    z = dataclasses.replace(z, duration=min(z.duration, 3600))
    c, d = runner.run_scenario(z, "cpython"), runner.run_scenario(z, "micropython")
    assert c.run.log.tag_lines == d.run.log.tag_lines and c.run.power.mah == d.run.power.mah
    light = z.board.current_ma["mcu"]["light_sleep"]
    assert c.run.power.mah["mcu"] / ((c.run.log.end - z.start) / 3600) >= light
