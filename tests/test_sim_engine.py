"""The virtual clock and the tag adapter: sleeping is free, the duty cycle holds, the battery
drains by the profile's currents, and the world's events reach the tag."""

from __future__ import annotations

import itertools

import simworld
from tagsim import engine
from tagsim import taglines as L
from tagsim.scenario import parse


def _lines(run: engine.Run, kind: type) -> list:
    return [r for _, r in L.records(run.log.tag_lines, kind)]


def _park(days: float, **over: object) -> engine.Run:
    d = simworld.doc(**over)
    d["itinerary"] = [{"stay": "park", "for": int(days * 86400)}]
    return engine.run(parse(d, "<t>"))


def test_sleeping_costs_no_iterations() -> None:
    r = _park(2, tag={"fix_interval_s": 3600, "upload_interval_s": 21600})
    fixes = _lines(r, L.FixStored)
    assert 46 <= len(fixes) <= 49
    assert r.log.iterations < 600  # two days: 172800 simulated seconds
    gaps = [b.now - a.now for a, b in itertools.pairwise(fixes)]
    assert all(3599 <= g <= 3602 for g in gaps)


def test_fix_interval_and_receiver_duty_cycle() -> None:
    r = _park(0.25)
    fixes = _lines(r, L.FixStored)
    gaps = [b.now - a.now for a, b in itertools.pairwise(fixes)]
    assert len(fixes) >= 355 and all(59 <= g <= 62 for g in gaps)
    on = r.log.gnss_seconds["acquiring"] + r.log.gnss_seconds["tracking"]
    assert on < 0.1 * 6 * 3600  # hot starts: the receiver is on a few seconds a minute
    assert r.receiver.starts["hot"] >= 350 and r.receiver.starts["cold"] == 1


def test_energy_adds_up_to_the_battery_drop() -> None:
    r = _park(1)
    pm = r.power
    used = sum(pm.mah.values())
    assert abs((pm.capacity - pm.charge) - used) < 1e-6
    b = r.scenario.board
    sec = r.log.gnss_seconds
    gnss_on = sec["tracking"] * b.current("gnss", "tracking") + sec["acquiring"] * b.current(
        "gnss", "acquisition"
    )
    backup = (86400 - sum(sec.values())) * b.current("gnss", "backup")
    assert abs(pm.mah["gnss"] - (gnss_on + backup) / 3600) < 0.05
    # the T-Beam asleep with its rails off (0.9 mA measured, MCU included), all day
    assert abs(pm.mah["board"] - b.board_overhead_ma * 24) < 0.05 and b.board_overhead_ma < 1


def test_battery_runs_down_then_charger_revives_the_tag() -> None:
    r = _park(2, battery={"capacity_mah": 30, "charging": [{"daily": "20:00-23:00"}]})
    world = [w["ev"] for w in r.log.world]
    assert "battery_empty" in world and "boot" in world
    died = r.log.died_at
    assert died is not None and died < r.scenario.start + 86400
    assert _lines(r, L.LowBattery)  # the low-battery event came before the end
    boot_t = next(w["t"] for w in r.log.world if w["ev"] == "boot")
    assert 20 * 3600 <= boot_t % 86400 < 23 * 3600
    assert not [t for t, _ in r.log.tag_lines if died < t < boot_t]  # dead: no events
    assert any(t > boot_t for t, ln in r.log.tag_lines if ln.startswith("F "))


def test_coverage_gap_fails_uploads_and_nothing_is_lost() -> None:
    r = _park(
        0.5,
        tag={"upload_interval_s": 600},
        coverage_gaps=[{"start": "2026-03-02T09:00:00Z", "end": "2026-03-02T11:00:00Z"}],
    )
    ups = _lines(r, L.Upload)
    failed = [u.now for u in ups if u.status == L.UPLOAD_NO_LINK]
    assert failed and all(9 * 3600 <= t % 86400 < 11 * 3600 for t in failed)
    ok = [u.n for u in ups if u.acked]
    after = next(u.n for u in ups if u.acked and u.now % 86400 >= 11 * 3600)
    assert after > 100  # the backlog of two hours goes out at once
    assert sum(ok) >= len(_lines(r, L.FixStored)) - 20  # all but the last interval's fixes uploaded


def test_tamper_is_logged_and_reported_at_once() -> None:
    r = _park(0.1, tamper=[{"at": "2026-03-02T08:30:00Z", "kind": "strap_cut"}])
    t = [x.now for x in _lines(r, L.Tamper)]
    assert len(t) == 1 and t[0] == simworld.START + 1800
    assert any(u.now == t[0] and u.acked for u in _lines(r, L.Upload))


def test_underground_search_gives_up_and_reports_location_lost() -> None:
    d = simworld.doc(tag={"max_search_s": 60})
    d["places"][1]["env"] = "underground"
    d["itinerary"] = [{"stay": "park", "for": "30m"}]
    r = engine.run(parse(d, "<t>"))
    assert not _lines(r, L.FixStored) and len(_lines(r, L.LocLost)) == 1
    # searches are capped, not endless: the first at max_search_s, the rest (after a failure)
    # at twice the profile's worst field cold start, 120 s, then 60 s off
    assert r.log.gnss_seconds["acquiring"] <= 30 * 60 * 2 // 3


def test_same_seed_same_run() -> None:
    a, b = _park(0.1), _park(0.1)
    assert a.log.tag_lines == b.log.tag_lines and a.log.world == b.log.world
    c = engine.run(parse(simworld.doc(seed=2), "<t>"))
    assert c.log.tag_lines != engine.run(parse(simworld.doc(), "<t>")).log.tag_lines


def test_wifi_uplink_costs_wifi_not_modem() -> None:
    modem = _park(0.25, tag={"upload_interval_s": 600})
    wifi = _park(0.25, tag={"upload_interval_s": 600, "uplink": "wifi"})
    assert modem.power.mah["wifi"] == 0 and wifi.power.mah["modem"] == 0
    ups = sum(1 for _, ln in wifi.log.tag_lines if ln.startswith("U "))
    # 3 s receiving (100 mA) and 1 s sending (240 mA) per upload
    assert abs(wifi.power.mah["wifi"] - ups * (3 * 100 + 240) / 3600) < 1e-6
    assert modem.power.mah["modem"] > wifi.power.mah["wifi"]  # LTE-M attach + linger costs more


def test_battery_life_is_projected_without_the_charger() -> None:
    from tagsim import metrics

    r = _park(1, battery={"charging": [{"daily": "00:00-06:00"}]})
    m = metrics.compute(r)
    assert r.power.charged_mah > 0
    used = sum(r.power.mah.values())
    assert m["battery_life_days"] == round(3000 / used, 2)


def test_scans_follow_the_proximity_core_and_cost_ble_energy() -> None:
    from tagcore.proximity.monitor import Profile
    from tagsim import hooks

    d = simworld.doc(beacon={"itinerary": [{"stay": "park", "for": "3h"}]})
    d["itinerary"] = [{"stay": "home", "for": "2h"}]  # the beacon stays 1.1 km away
    sc = parse(d, "<t>")
    r = engine.run(sc, "cpython", None, hooks.proximity(sc))
    # nothing around: the core's slow cadence (520 ms every 13 s)
    p = Profile()
    assert abs(r.log.scan_s - 7200 / p.slow_period_s * p.slow_scan_ms / 1000) <= 3
    b = sc.board
    assert abs(r.power.mah["ble"] - r.log.scan_s * b.current("ble", "scan") / 3600) < 1e-9
    assert not r.log.scans or all(x[2] is None for x in r.log.scans)  # too far to hear


def test_the_esp32_radio_figures_are_whole_chip_and_not_charged_twice() -> None:
    # The ESP32 datasheet's BLE/Wi-Fi RX 95-100 mA and TX figures are the chip in active mode
    # (CPU running): a scan or a Wi-Fi upload adds no MCU current on top. An external modem
    # is another chip: the MCU awake beside it is charged.
    from tagsim import boards
    from tagsim.power import PowerMeter

    b = boards.load("tbeam_v12_axp2101")
    pm = PowerMeter(b, 3000, 100, "wifi")
    pm.scan(10)
    pm.upload(True)
    assert pm.mah["mcu"] == 0
    assert abs(pm.mah["ble"] - 10 * b.current("ble", "scan") / 3600) < 1e-12
    lte = PowerMeter(b, 3000, 100, "modem")
    lte.upload(True)
    assert lte.mah["mcu"] > 0
