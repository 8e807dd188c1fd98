"""Board profiles: every file loads, matches the shared reference data, and bad ones fail loudly."""

from __future__ import annotations

import copy
import json

import pytest
from micropython_runner import SHARED, run_micropython
from tagsim import boards


def test_every_profile_loads_and_is_named_by_its_file() -> None:
    names = boards.available()
    assert len(names) >= 5
    for n in names:
        b = boards.load(n)
        assert b.id == n
        g = b.gnss
        assert g.ttff_s["hot"] <= g.ttff_s["warm"] <= g.ttff_s["cold"]
        assert b.current("gnss", "acquisition") > b.current("gnss", "backup")
        assert (
            b.current("mcu", "active")
            > b.current("mcu", "light_sleep")
            > b.current("mcu", "deep_sleep")
        )


def test_pins_agree_with_the_shared_draft() -> None:
    draft = json.loads((SHARED / "reference" / "boards.draft.json").read_text())
    for bid, d in draft.items():
        if bid.startswith("_"):
            continue
        b = boards.load(bid)
        u = b.pins["gnss_uart"]
        assert (u["rx"], u["tx"], u["baud"]) == (
            d["uart"]["rx"],
            d["uart"]["tx"],
            d["uart"]["baud"],
        )
        assert b.gnss.model in d["gnss"]
        assert b.raw["mcu"]["chip"].split()[0] == d["mcu"].split()[0]


def test_datasheet_figures() -> None:
    # shared/reference/boards.md: NEO-M8N cold 26 s / hot 1 s; M8 32 / 29 mA; ESP32 deep sleep 10 uA
    b = boards.load("tbeam_v12_axp2101")
    assert b.gnss.ttff_s["cold"] == 26 and b.gnss.ttff_s["hot"] == 1
    assert b.current("gnss", "acquisition") == 32 and b.current("gnss", "tracking") == 29
    assert b.current("mcu", "deep_sleep") == 0.01
    # what the shell leaves on asleep: rails off (the v1.1's measured 0.9 mA, MCU included);
    # left on, OLED and PMU cost 5.3 mA (TBeamPower), which is what was charged before
    assert b.board_overhead_ma + b.current("mcu", "deep_sleep") == pytest.approx(0.9)
    assert b.board_states_ma["oled_pmu_left_on"] == 5.3
    s3 = boards.load("tbeam_supreme_s3")
    assert s3.gnss.model == "L76K" and s3.gnss.ttff_s["cold"] == 30 and s3.gnss.ttff_s["hot"] == 5.5
    assert boards.load("heltec_wireless_tracker_v11").gnss.backup_supply is False


def _doc() -> dict:
    return json.loads((boards.BOARDS_DIR / "tbeam_v12_axp2101.json").read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("gnss"), "$.gnss: missing"),
        (lambda d: d["gnss"]["ttff_s"].update(hot=99), "hot <= warm <= cold"),
        (lambda d: d["gnss"].update(talker="XX"), "$.gnss.talker"),
        (lambda d: d["current_ma"]["ble"].update(scan=-1), "$.current_ma.ble.scan: must be >= 0"),
        (
            lambda d: d["current_ma"]["mcu"].pop("deep_sleep"),
            "$.current_ma.mcu.deep_sleep: missing",
        ),
        (lambda d: d["pins"]["gnss_uart"].update(rx=99), "not an ESP32 GPIO"),
        (lambda d: d["pins"]["gnss_uart"].update(baud=1234), "unusual baud"),
        (lambda d: d["gnss"].update(backup_supply="yes"), "$.gnss.backup_supply: expected bool"),
        (lambda d: d["gnss_power"].update(method="magic"), "$.gnss_power.method"),
        (lambda d: d["mcu"].update(seal_partition=""), "$.mcu.seal_partition: a partition"),
        (lambda d: d["mcu"].update(seal_partition="x" * 17), "1..16 characters"),
        (lambda d: d["mcu"].update(seal_partition=4), "$.mcu.seal_partition: expected str"),
    ],
)
def test_invalid_profiles_are_rejected_with_the_path(edit, message) -> None:
    d = copy.deepcopy(_doc())
    edit(d)
    with pytest.raises(boards.BoardError) as e:
        boards.from_dict(d)
    assert message in str(e.value)


def test_load_errors(tmp_path) -> None:
    with pytest.raises(boards.BoardError, match="unknown board 'nope'"):
        boards.load("nope")
    bad = tmp_path / "x.json"
    bad.write_text("{")
    with pytest.raises(boards.BoardError, match="not valid JSON"):
        boards.load(str(bad))
    other = tmp_path / "other.json"
    other.write_text(json.dumps(_doc()))
    with pytest.raises(boards.BoardError, match="does not match the file name"):
        boards.load(str(other))
    assert boards.validate([]) == ["$: a profile must be a JSON object"]


def test_the_tag_runs_the_same_schema_check_as_the_simulator() -> None:
    # One check (tagcore.board) on both runtimes: every profile in boards/ and each broken one
    # of the cases above gets the same verdict inside MicroPython as here.
    docs = {n: _doc_of(n) for n in boards.available()}
    broken = copy.deepcopy(_doc())
    broken["pins"]["gnss_uart"]["baud"] = "fast"
    broken["gnss_power"]["chip"] = "AXP999"
    docs["broken"] = broken
    docs["not an object"] = [1, 2]
    code = (
        "import json, sys\n"
        "from tagcore import board\n"
        "docs = json.loads(sys.stdin.read())\n"
        "for name in sorted(docs):\n"
        "    print(json.dumps([name, board.check(docs[name])]))\n"
    )
    out = run_micropython(code=code, stdin=json.dumps(docs).encode(), heap=256 * 1024)
    got = {n: [f"{p}: {m}" for p, m in probs] for n, probs in map(json.loads, out.splitlines())}
    assert got == {n: boards.validate(d) for n, d in docs.items()}
    assert all(got[n] == [] for n in boards.available())
    assert "$.pins.gnss_uart.baud: expected a number, got 'fast'" in got["broken"]
    assert "$.gnss_power.chip: expected AXP192 or AXP2101, got 'AXP999'" in got["broken"]


def _doc_of(name: str) -> dict:
    return json.loads((boards.BOARDS_DIR / f"{name}.json").read_text())
