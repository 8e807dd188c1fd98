"""The PMU driver (tagdevice.pmu) in MicroPython on both T-Beam register maps, against the
datasheets' encodings computed here independently: the GNSS rail switches its one bit and
leaves the other outputs alone, battery voltage and charge state decode, a dead bus reads as
unknown (counted), never raises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from devicekit import RealServer, Run, compile_config, run_board, write_prov
from hypothesis import given, settings
from hypothesis import strategies as st
from micropython_runner import run_micropython
from tagcore.store import record as R

FAKE = ("mpy/fake_machine",)


def axp192(mv: int, charging: bool, outputs: int) -> tuple[str, int]:
    raw = mv * 10 // 11  # 1.1 mV per step, 12 bits: 0x78 high 8, 0x79 low 4
    regs = {0x12: outputs, 0x78: raw >> 4, 0x79: raw & 0x0F, 0x01: 0x20 | (0x40 if charging else 0)}
    return "AXP192 12 3 " + ",".join(f"{k:x}={v:x}" for k, v in regs.items()), raw * 11 // 10


def axp2101(mv: int, charging: bool, outputs: int, pct: int) -> tuple[str, int]:
    regs = {0x90: outputs, 0x34: mv >> 8, 0x35: mv & 0xFF, 0x00: 0x08, 0xA4: pct,
            0x01: (0x20 if charging else 0x40) | 0x03}  # fmt: skip
    return "AXP2101 90 2 " + ",".join(f"{k:x}={v:x}" for k, v in regs.items()), mv


@settings(max_examples=5, deadline=None)
@given(
    cases=st.lists(
        st.tuples(st.integers(3000, 4300), st.booleans(), st.integers(0, 255), st.integers(0, 100)),
        min_size=20,
        max_size=20,
    )
)
def test_both_register_maps_decode_as_the_datasheets_say(cases) -> None:
    lines, want = [], []
    for i, (mv, chg, outs, pct) in enumerate(cases):
        if i % 2:
            ln, v = axp192(mv, chg, outs)
            bit = 1 << 3
        else:
            ln, v = axp2101(mv, chg, outs, pct)
            bit = 1 << 2
        lines.append(ln)
        want.append((outs & ~bit & 0xFF, outs | bit, v, chg, None if i % 2 else pct))
    out = run_micropython(module="device_pmu_run", path=FAKE, stdin="\n".join(lines).encode())
    rows = out.split("\n")
    got = [r.split() for r in rows if r.startswith("R ")]
    fails = [r.split() for r in rows if r.startswith("F ")]
    assert len(got) == len(cases) == len(fails)
    for g, w, f in zip(got, want, fails, strict=True):
        assert int(g[1]) == w[0] and int(g[2]) == w[1]  # only the rail's bit changes
        assert int(g[3]) == w[2]
        assert g[4] == str(w[3])
        p = int(g[5])
        assert 0 <= p <= 100 and (w[4] is None or p == w[4])  # the AXP2101's gauge is taken
        assert f[1:5] == ["False", "None", "None", "None"] and int(f[5]) > 0


# The outputs' enable bits by name, from the datasheets (AXP192 register 0x12; AXP2101 0x80
# DCDC1-5, 0x90 ALDO1-4 BLDO1-2 CPUSLDO DLDO1, 0x91 DLDO2; as XPowersLib encodes them), and
# the rail each T-Beam runs its ESP32 and its LoRa radio from (shared/reference/
# boards.draft.json lora_rail; meshtastic firmware src/Power.cpp): written out here, not read
# from the profiles they check.
ENABLES = {
    "AXP192": {"DCDC1": (0x12, 0), "DCDC3": (0x12, 1), "LDO2": (0x12, 2), "LDO3": (0x12, 3),
               "DCDC2": (0x12, 4), "EXTEN": (0x12, 6)},
    "AXP2101": {**{f"DCDC{i + 1}": (0x80, i) for i in range(5)},
                **{f"ALDO{i + 1}": (0x90, i) for i in range(4)},
                "BLDO1": (0x90, 4), "BLDO2": (0x90, 5), "CPUSLDO": (0x90, 6), "DLDO1": (0x90, 7),
                "DLDO2": (0x91, 0)},
}  # fmt: skip
RAILS = {  # board: (ESP32's output, LoRa's, GNSS's)
    "tbeam_v11_axp192": ("DCDC3", "LDO2", "LDO3"),
    "tbeam_v12_axp2101": ("DCDC1", "ALDO2", "ALDO3"),
    "tbeam_supreme_s3": ("DCDC1", "ALDO3", "ALDO4"),
    "tbeam_supreme_m10": ("DCDC1", "ALDO3", "ALDO4"),
}
BOARDS = Path(__file__).resolve().parent.parent / "boards"


def _profile(bid: str) -> dict:
    return json.loads((BOARDS / f"{bid}.json").read_text())


@pytest.mark.parametrize("bid", sorted(RAILS))
def test_each_tbeam_profile_names_its_outputs_as_the_datasheet_encodes_them(bid: str) -> None:
    b = _profile(bid)
    po, gp = b["pmu_outputs"], b["gnss_power"]
    enables = ENABLES[gp["chip"]]
    esp32, lora, gnss = RAILS[bid]
    for part in ("keep", "off"):
        for name, rb in po[part].items():
            assert tuple(rb) == enables[name], (part, name)
    assert po["esp32"] == esp32 and esp32 in po["keep"]
    assert lora in po["off"]
    assert (gp["rail"], (gp["reg"], gp["bit"])) == (gnss, enables[gnss])
    assert gnss not in po["off"] and gnss not in po["keep"]  # gnss_rail() alone switches it


def test_rails_off_clears_the_listed_bits_only_and_a_dead_bus_is_counted() -> None:
    paths = [str(BOARDS / f"{bid}.json") for bid in sorted(RAILS)]
    out = run_micropython(module="device_rails_run", path=FAKE, args=tuple(paths))
    rows = [r.split() for r in out.splitlines()]
    r_rows = [r for r in rows if r[0] == "R"]
    f_rows = [r for r in rows if r[0] == "F"]
    assert len(r_rows) == len(f_rows) == len(paths)
    for bid, r, f in zip(sorted(RAILS), r_rows, f_rows, strict=True):
        po = _profile(bid)["pmu_outputs"]
        got = dict(zip(map(int, r[2:-1:2]), map(int, r[3:-1:2]), strict=True))
        want = {reg: 0xFF for reg in got}
        for reg, bit in po["off"].values():
            want[reg] &= ~(1 << bit)
        assert got == want, bid  # off bits clear; kept, GNSS and unrelated bits as they were
        assert r[-1] == "0"
        # a dead bus: nothing written, every listed output reported left on, each error counted
        assert f[3:] == sorted(po["off"]) and int(f[2]) >= len({rb[0] for rb in po["off"].values()})
    d = [r for r in rows if r[0] == "D"]
    n = [r for r in rows if r[0] == "N"]
    assert d and all(x[1:] == ["True", str(0xAE)] for x in d)  # SSD1306 "display off"
    assert n and all(x[1:] == ["False"] for x in n)  # no OLED fitted: False, no exception


def test_rails_off_never_clears_the_esp32_or_gnss_bit_whatever_the_list_says() -> None:
    code = (
        "from machine import I2C\n"
        "from tagdevice import rails\n"
        "from tagdevice.pmu import Pmu\n"
        "bus = I2C(0)\n"
        "bus.regs[(0x34, 0x12)] = 0xFF\n"
        "pmu = Pmu(bus, 'AXP192', 0x34, 0x12, 3)\n"
        "outs = {'keep': {'DCDC3': [0x12, 1]}, 'off': {'DCDC3': [0x12, 1], 'LDO3': [0x12, 3],"
        " 'LDO2': [0x12, 2]}}\n"
        "print(rails.off(pmu, outs), bus.regs[(0x34, 0x12)])\n"
    )
    out = run_micropython(code=code, path=FAKE).split()
    assert out == ["[]", str(0xFF & ~(1 << 2))]  # only LDO2: a bad list cannot brown out the chip


# ---- the whole firmware at boot (tests/mpy/device_board.py: every output on and the OLED lit
# at power-on, the worst case; the board's sleep draw from the profile's measured states) ------


def _pmu_regs(run: Run) -> dict[int, int]:
    return {int(a): int(v) for _, a, v in (ln.split() for ln in run.lines if ln[:8] == "PMU_REG ")}


@pytest.mark.parametrize("bid", ["tbeam_v11_axp192", "tbeam_v12_axp2101", "tbeam_supreme_s3"])
def test_after_boot_the_board_sleeps_at_the_rails_off_figure(
    tmp_path: Path, firmware: Path, server: RealServer, bid: str
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=300, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", server.port, board=bid, config=cfg)
    run = run_board(tmp_path, firmware, prov, duration_s=1200)
    b = _profile(bid)
    po, gp = b["pmu_outputs"], b["gnss_power"]
    assert "ESP32_RAIL_CUT" not in run.out
    regs = _pmu_regs(run)
    for name, (reg, bit) in po["off"].items():
        assert not regs[reg] & (1 << bit), name
    for name, (reg, bit) in po["keep"].items():  # the ESP32's own supply among them
        assert regs[reg] & (1 << bit), name
    assert run.value("OLED_LIT") == 0
    want = round(1000 * b["current_ma"]["board_states"]["timer_wake_rails_off"])
    assert run.value("SLEEP_UA") == want  # was oled_pmu_left_on (5.3 mA) before the shell did it
    # the GNSS rail is still gnss_rail()'s: it came on for fixes (the receiver runs off its bit)
    assert run.logs("fix") and run.value("DEEPSLEEPS") > 0
    assert not run.logs("pmu", "ERROR"), run.out[-2000:]
    assert gp["reg"] in regs


def test_an_i2c_nack_at_boot_is_logged_and_reported_and_the_next_boot_switches_them_off(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=300, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", server.port, config=cfg)
    run = run_board(tmp_path, firmware, prov, duration_s=2400, pmu_nack=[0x12, 1])
    (err,) = run.logs("pmu", "ERROR")  # the first boot's write to 0x12, not acknowledged
    assert set(err.group(4).split(": ")[1].split()) == {"LDO2", "DCDC2"}
    assert run.logs("fix") and run.value("DEEPSLEEPS") > 0  # the boot went on
    status = [e[3] for e in server.events() if e[1] == R.EV_STATUS]
    assert any(s.startswith(b"pmu on ") for s in status), status
    # a wake from deep sleep boots again: that boot's write went through
    assert run.value("SLEEP_UA") == 900 and "ESP32_RAIL_CUT" not in run.out
