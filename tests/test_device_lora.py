"""The unused LoRa radio put to sleep at boot (tagdevice.lorasleep), on the Heltec Wireless
Tracker whose SX1262 hangs on the always-on 3V3: the whole firmware on tests/mpy/device_board,
whose SX1262 follows the datasheet (standby 0.6 mA from power-on, SetSleep only while BUSY is
low, a falling NSS wakes it); and the profile check's refusals of a wrong lora_sleep."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from devicekit import RealServer, compile_config, run_board, write_prov
from tagcore import board as B
from tagcore.store import record as R

HELTEC = Path(__file__).resolve().parent.parent / "boards" / "heltec_wireless_tracker_v11.json"


def _lora(run_out: str) -> list[str]:
    (line,) = [ln for ln in run_out.splitlines() if ln.startswith("LORA ")]
    return line.split()[1:]


def test_the_radio_sleeps_after_every_boot_and_stays_asleep_through_deep_sleeps(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=300, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", server.port, board=HELTEC.stem, config=cfg)
    run = run_board(tmp_path, firmware, prov, duration_s=1800)
    state, ua, other = _lora(run.out)
    assert state == "sleep" and float(ua) < 1, run.out[-2000:]  # was stdby_rc, 600 uA
    assert other == "0"  # no command sent while BUSY was high, none in the wrong SPI mode
    # boots after deep sleeps woke the chip (a falling NSS) and put it back: still asleep
    assert run.value("DEEPSLEEPS") > 0 and run.logs("fix")
    assert not run.logs("lora", "ERROR")


def test_a_radio_that_never_answers_is_logged_and_reported_and_the_boot_goes_on(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=300, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", server.port, board=HELTEC.stem, config=cfg)
    run = run_board(tmp_path, firmware, prov, duration_s=1800, lora_hung=True)
    assert _lora(run.out)[0] == "stdby_rc"
    assert run.logs("lora", "ERROR") and run.logs("fix") and run.value("DEEPSLEEPS") > 0
    status = [e[3] for e in server.events() if e[1] == R.EV_STATUS]
    assert b"lora awake" in status, status


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(chip="SX1276"), "lora_sleep.chip"),
        (lambda d: d.update(busy=d["nss"]), "the same pin as nss"),
        (lambda d: d.update(miso=60), "not an ESP32 GPIO: 60"),
        (lambda d: d.update(spi=0), "SPI buses for users are 1 and 2"),
        (lambda d: d.pop("busy"), "lora_sleep"),
    ],
)
def test_the_profile_check_refuses_a_wrong_lora_sleep(edit, problem: str) -> None:
    doc = json.loads(HELTEC.read_text())
    assert B.check(doc) == []
    bad = copy.deepcopy(doc)
    edit(bad["lora_sleep"])
    errs = B.check(bad)
    assert any(problem in f"{p}: {q}" for p, q in errs), errs
