"""Board profiles as the GNSS core reads them: family, driver, rail, sources, field TTFF."""

from __future__ import annotations

import copy
import json

import pytest
from micropython_runner import SHARED
from tagcore.gnss import energy, profile
from tagcore.gnss.power import BACKUP, CYCLIC, OFF
from tagsim import boards
from tagsim.power import PowerMeter


def _raw(bid: str) -> dict:
    return json.loads((boards.BOARDS_DIR / f"{bid}.json").read_text())


def test_every_profile_has_a_driver_and_its_rail_matches_the_reference() -> None:
    draft = json.loads((SHARED / "reference" / "boards.draft.json").read_text())
    for bid in boards.available():
        doc = _raw(bid)
        assert profile.driver(doc) is not None, bid
        on, off = profile.rails(doc)
        d = draft.get(bid)
        if d is None or "pmu" not in d:
            continue
        r = d["pmu"]["gnss_rail"]
        mask = 1 << r["bit"]
        assert on == ("i2c", int(d["pmu"]["i2c"]["addr"], 16), int(r["reg"], 16), mask, mask)
        assert off == ("i2c", int(d["pmu"]["i2c"]["addr"], 16), int(r["reg"], 16), mask, 0)
        assert doc["gnss_power"]["rail"] == r["name"]
    heltec = _raw("heltec_wireless_tracker_v11")
    vext = draft["heltec_wireless_tracker_v11"]["gnss_power"]
    assert profile.rails(heltec) == (("gpio", vext["pin"], 1), ("gpio", vext["pin"], 0))


def test_family_follows_the_model() -> None:
    want = {"NEO-M8N": "ublox_m8", "MAX-M10S": "ublox_m10", "L76K": "l76k", "UC6580": "unicore"}
    for bid in boards.available():
        g = boards.load(bid).gnss
        assert g.family == want[g.model], bid
    uc = boards.load("heltec_wireless_tracker_v11").gnss
    assert not uc.power_save and not uc.soft_backup and not uc.keeps_config_on_rail_off


def test_supreme_m10_figures_from_the_sam_m10q_datasheet() -> None:
    b = boards.load("tbeam_supreme_m10")
    assert (b.gnss.model, b.gnss.family) == ("MAX-M10S", "ublox_m10")
    c = b.gnss.current_ma
    assert (c["acquisition"], c["tracking"], c["power_save"], c["backup"]) == (13, 10, 5, 0.032)
    assert b.gnss.ttff_s["hot"] == 1 and 23 <= b.gnss.ttff_s["cold"] <= 29
    assert b.gnss.ttff_field_s["cold"][0] >= 23  # the field is never better than the datasheet
    assert b.pins["gnss_uart"] == _raw("tbeam_supreme_s3")["pins"]["gnss_uart"]
    assert b.gnss_power == boards.load("tbeam_supreme_s3").gnss_power


def test_tbeam_v11_sleep_figures_follow_the_measured_state() -> None:
    b = boards.load("tbeam_v11_axp192")
    s = b.board_states_ma
    assert s["timer_wake_rails_off"] == 0.9 and s["gpio_wake_rails_off"] == 1.2
    assert 0.040 <= s["esp32_off_by_pmu"] <= 0.050 and s["oled_pmu_left_on"] == 5.3
    # what the simulator charges while asleep: the measured rails-off figure, MCU included
    assert b.board_overhead_ma + b.current("mcu", "deep_sleep") == pytest.approx(0.9)


def test_field_ttff_is_no_better_than_the_datasheet() -> None:
    for bid in boards.available():
        g = boards.load(bid).gnss
        hot, cold = g.ttff_field_s["hot"], g.ttff_field_s["cold"]
        assert hot[0] >= g.ttff_s["hot"] and cold[0] >= g.ttff_s["cold"] - 0.5, bid
        assert hot[-1] <= 32 or not g.backup_supply  # StuartsProjects: 2-32 s
        assert max(cold) <= 120  # NIJ 1004.00: a cold fix within 2 minutes
        if g.soft_backup or g.backup_on_rail_off:  # often ~10 s
            assert 8 <= sorted(hot)[len(hot) // 2] <= 12, bid


def test_energy_model_inputs_and_choices_per_board() -> None:
    for bid in boards.available():
        rx = profile.receiver(_raw(bid))
        b = boards.load(bid)
        g = b.gnss
        # the figure the simulator charges (the field one where worse: Board.current_ma)
        assert rx.acq_ua == round(b.current_ma["gnss"]["acquisition"] * 1000)
        assert energy.supported(CYCLIC, rx) == g.power_save
        assert energy.supported(BACKUP, rx) == g.soft_backup
        assert energy.supported(OFF, rx)  # every board here can cut the rail
        for t in (15, 60, 300):
            m, q = energy.choose(t, rx)
            assert energy.supported(m, rx) and q == energy.charge_per_fix(m, t, rx)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["sources"].pop("gnss.current_ma.tracking"),
            "gnss.current_ma.tracking: no source",
        ),
        (lambda d: d["sources"].update({"gnss.ttff_s": " "}), "gnss.ttff_s.cold: no source"),
        (lambda d: d["sources"].pop("current_ma.ble"), "$.current_ma.ble.scan: no source"),
        (lambda d: d["sources"].update({"current_ma.b": "x"}), None),
        (lambda d: d.pop("sources"), "$.sources: missing"),
        (lambda d: d["gnss"].update(family="sirf"), "$.gnss.family"),
        (lambda d: d["gnss"].pop("soft_backup"), "$.gnss.soft_backup: missing"),
        (lambda d: d["gnss"]["ttff_field_s"].update(hot=[5, 3]), "must not decrease"),
        (lambda d: d["gnss"]["ttff_field_s"].update(cold=[]), "non-empty list"),
        (lambda d: d["gnss"]["current_ma"].update(power_save=40), "must be below tracking"),
        (lambda d: d["gnss_power"].pop("reg"), "$.gnss_power.reg: missing"),
        # the outputs the shell switches off: never the ESP32's own, never the GNSS rail
        (lambda d: d["pmu_outputs"]["keep"].pop("DCDC3"), "ESP32's own output 'DCDC3' must be"),
        (lambda d: d["pmu_outputs"]["off"].update(DCDC3=[18, 1]), "off.DCDC3: the same bit as"),
        (lambda d: d["pmu_outputs"]["off"].update(LDO3=[18, 3]), "the GNSS rail is gnss_power's"),
        (lambda d: d["pmu_outputs"]["off"].update(X=[18, 8]), "not a register bit"),
        (lambda d: d["pmu_outputs"].update(display_sleep=300), "not a 7-bit I2C address"),
    ],
)
def test_profiles_without_sources_or_with_bad_gnss_data_are_rejected(edit, message) -> None:
    d = copy.deepcopy(_raw("tbeam_v11_axp192"))
    edit(d)
    if message is None:  # a source key that is a character prefix covers nothing extra
        boards.from_dict(d)
        return
    with pytest.raises(boards.BoardError) as e:
        boards.from_dict(d)
    assert message in str(e.value)


@pytest.mark.parametrize(
    "bid", ["tbeam_v11_axp192", "tbeam_v12_axp2101", "tbeam_supreme_m10", "tbeam_supreme_s3"]
)
def test_every_tbeam_sleeps_at_the_rails_off_figure_not_the_rails_on_one(bid: str) -> None:
    # the device shell switches LoRa and the unused PMU outputs off and puts an OLED on a kept
    # rail to sleep (tagdevice.rails, at boot; tests/test_device_pmu.py): what the simulator
    # charges asleep is the measured figure for that state (0.9 mA), and the rails-on figure
    # (about 5 mA, what v1.2 charged before and the Supreme's 0 understated) is only a state
    b = boards.load(bid)
    s = b.board_states_ma
    asleep = b.board_overhead_ma + b.current("mcu", "deep_sleep")
    assert asleep == pytest.approx(s["timer_wake_rails_off"], abs=0.001)
    assert s["oled_pmu_left_on"] > 5 * asleep
    src = b.raw["sources"]["current_ma.board_overhead"].lower()
    assert "verify" in src or bid.endswith("v11_axp192")  # borrowed figures say so


def test_a_board_loads_only_its_own_receiver_driver() -> None:
    # the four drivers together cost 14 KB of MicroPython heap: a board loads its own only
    import subprocess
    import sys

    drivers = {"ublox_m8", "ublox_m10", "mtk", "unicore"}
    for bid in boards.available():
        code = (
            "import json, sys\n"
            "from tagcore.gnss import profile\n"
            f"d = profile.driver(json.load(open({str(boards.BOARDS_DIR / (bid + '.json'))!r})))\n"
            "print(d is not None, *sorted(m.split('.')[-1] for m in sys.modules\n"
            "    if m.startswith('tagcore.gnss.')))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        ok, *mods = out.stdout.split()
        own = profile.DRIVERS[_raw(bid)["gnss"]["family"]][0]
        uses = {"ublox_m10": {"ublox_m8"}}.get(own, set())  # the M10 shares the M8's frames
        assert ok == "True" and drivers & set(mods) == {own} | uses, (bid, mods)


def test_the_model_and_the_simulator_charge_field_currents_where_worse() -> None:
    # current_ma keeps the datasheet's figures; current_field_ma the worse ones the tag
    # really draws (M10: + V_IO, the measured software backup), and both sides charge those
    for bid in boards.available():
        doc = _raw(bid)
        ds, fld = doc["gnss"]["current_ma"], doc["gnss"].get("current_field_ma", {})
        b = boards.load(bid)
        rx = profile.receiver(doc)
        for state, ua in (("acquisition", rx.acq_ua), ("tracking", rx.track_ua)):
            want = fld.get(state, ds[state])
            assert want >= ds[state] and ua == round(want * 1000), (bid, state)
            assert b.current_ma["gnss"][state] == want and b.gnss.current_ma[state] == ds[state]
        assert rx.off_ua == round(ds["off"] * 1000), bid  # the rail cut: what the battery feeds
    m10 = profile.receiver(_raw("tbeam_supreme_m10"))
    assert (m10.acq_ua, m10.track_ua, m10.cyclic_ua, m10.backup_ua) == (15200, 12200, 7200, 350)


def test_a_field_current_better_than_the_datasheet_is_refused() -> None:
    doc = _raw("tbeam_supreme_m10")
    doc["gnss"]["current_field_ma"]["tracking"] = 9.0  # below the datasheet's 10 mA
    doc["gnss"]["current_field_ma"]["nonsense"] = 1.0
    errs = boards.validate(doc)
    assert any("current_field_ma.tracking" in e for e in errs)
    assert any("current_field_ma.nonsense" in e for e in errs)
    del doc["sources"]["gnss.current_field_ma.backup"]
    assert any("current_field_ma.backup: no source" in e for e in boards.validate(doc))


def test_a_rail_cut_charges_what_the_battery_still_feeds_the_receiver() -> None:
    # v1.2: the AXP2101 recharges the backup cell (0x18 bit 2), so the battery pays its draw;
    # the Supremes feed V_BCKP from the 18650
    for bid in ("tbeam_v12_axp2101", "tbeam_supreme_m10", "tbeam_supreme_s3"):
        b = boards.load(bid)
        assert b.current_ma["gnss"]["off"] > 0, bid
        assert PowerMeter(b, 3000, 100).gnss_off_ma() == b.current_ma["gnss"]["off"]
