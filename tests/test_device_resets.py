"""The whole firmware through what a tag lives through: deep sleep (state in RTC memory), a
watchdog reset after a stuck driver, a power cut in the middle of a flash write (the store's
power-cut model on the board's littlefs), a crash loop into safe mode, and tamper inputs that
wake it. In the unix port on the fakes, against the real `opentag server` on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from devicekit import RealServer, compile_config, fix_seqs, run_board, write_prov
from tagcore.store import record as R


def plain(tmp: Path, port: int, sealed: bool = True) -> Path:
    """A tracker without zones: it deep-sleeps between fixes."""
    cfg = compile_config(tmp, fix_interval_s=60, upload_interval_s=300)
    return write_prov(tmp / "prov", port, config=cfg, sealed=sealed)


def test_deep_sleep_between_fixes_keeps_the_store_in_rtc_memory(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # unsealed: its seals would take seqs between the fixes (tests/test_device_seal.py has the
    # sealed tag through deep sleep)
    run = run_board(tmp_path, firmware, plain(tmp_path, server.port, False), duration_s=3600)
    deeps = run.value("DEEPSLEEPS")
    assert deeps >= 50 and run.value("BOOTS") in (deeps, deeps + 1)  # the last may not wake
    causes = [b.group(4) for b in run.banners()]
    assert causes[0] == "pwron" and set(causes[1:]) == {"deepsleep"}
    assert {b.group(5) for b in run.banners()} == {"normal"}
    seqs = fix_seqs(run)
    # resumed from RTC memory at every wake: one boot record, seqs one after the other
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    boots = [e for e in server.events() if e[1] == R.EV_BOOT]
    assert len(boots) == 1
    got = [f[0] for f in server.fixes()]
    assert len(got) == len(set(got)) and set(got) <= set(seqs) and len(got) >= len(seqs) - 6


def test_a_stuck_driver_is_reset_by_the_watchdog_and_the_tag_goes_on(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    hang = 1800
    run = run_board(tmp_path, firmware, plain(tmp_path, server.port), 3600, events=[[hang, "hang"]])
    assert run.value("WDT") == 1
    reset_t = int(next(ln for ln in run.lines if ln.startswith("WDT_RESET")).split()[1])
    t0 = int(run.logs()[0].group(1))
    assert 0 < reset_t - (t0 + hang) <= 61 + 60  # the next search, then one watchdog period
    after = [b for b in run.banners() if b.group(4) == "wdt"]
    assert len(after) == 1 and after[0].group(5) == "normal"
    seqs = fix_seqs(run)
    assert len(seqs) == len(set(seqs))  # never a seq twice, across the reset
    late = [int(m.group(1)) for m in run.logs("fix") if int(m.group(1)) > reset_t]
    assert len(late) >= 20  # fixes go on after it
    got = {f[0]: f[1] for f in server.fixes()}
    assert any(t > reset_t for t in got.values())
    assert len([e for e in server.events() if e[1] == R.EV_BOOT]) == 2  # power-on, the reset


@pytest.mark.parametrize("write", [0, 2, 5])
def test_a_power_cut_mid_write_loses_nothing_promised_and_reuses_no_seq(
    tmp_path: Path, firmware: Path, server: RealServer, write: int
) -> None:
    run = run_board(
        tmp_path, firmware, plain(tmp_path, server.port), 3600,
        events=[[1500, "power_cut", write]],
    )  # fmt: skip
    assert run.value("CUTS") == 1
    cut_t = int(next(ln for ln in run.lines if ln.startswith("POWER_CUT")).split()[1])
    pw = [b for b in run.banners() if b.group(4) == "pwron"]
    assert len(pw) == 2 and all(b.group(5) == "normal" for b in pw)
    seqs = fix_seqs(run)
    assert len(seqs) == len(set(seqs))
    fixes = server.fixes()
    got = [f[0] for f in fixes]
    assert len(got) == len(set(got))
    # every upload the server acknowledged before the cut is there; the tag goes on after it
    assert any(f[1] > cut_t for f in fixes)
    times = [int(m.group(1)) for m in run.logs("fix")]
    before = [s for s, t in zip(seqs, times, strict=True) if t < cut_t - 300]
    assert server.acked() > max(before)
    # and the server holds every fix the tag stored before its last upload ahead of the cut
    assert set(before) - {f[0] for f in fixes} == set()


def test_a_crash_loop_falls_back_to_safe_mode_which_still_logs_and_reports(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    run = run_board(
        tmp_path, firmware, plain(tmp_path, server.port), 1800,
        events=[[0, "uart_init_fails", 50]],
    )  # fmt: skip
    modes = [(b.group(4), b.group(5)) for b in run.banners()]
    # the fault comes after the first boot's UART is open; a deep sleep is a healthy end (the
    # counter is cleared); then three crashed boots in a row, and the fourth is safe mode
    hard = ("hard", "normal")
    assert modes[:5] == [("pwron", "normal"), ("deepsleep", "normal"), hard, hard, hard]
    assert modes[5:] == [("hard", "safe")]  # safe mode survives the broken UART: no more resets
    assert run.logs("shell", "ERROR") and run.logs("gnss", "ERROR")
    status = [e[3] for e in server.events() if e[1] == R.EV_STATUS]
    assert b"safe mode" in status
    # it still reports: the searches that cannot succeed end in a loss-of-location alert
    assert any(e[1] == R.EV_LOC_LOST for e in server.events())


def test_tamper_wakes_the_tag_from_deep_sleep_and_is_stamped_within_5_s(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cut, opened = 1000, 2230
    run = run_board(
        tmp_path, firmware, plain(tmp_path, server.port), 3600,
        events=[[cut, "strap_cut"], [opened, "case_open"]],
    )  # fmt: skip
    t0 = int(run.logs()[0].group(1))
    tampers = [e for e in server.events() if e[1] == R.EV_TAMPER]
    assert [e[3] for e in tampers] == [b"\x01", b"\x02"]  # strap, then case
    for e, at in zip(tampers, (cut, opened), strict=True):
        assert 0 <= e[2] - (t0 + at) <= 5  # NIJ 1004.00: within 5 s
    # each went out at once (an alert), not with the next regular upload
    ups = [int(m.group(1)) for m in run.logs("uplink") if "status=1" in m.group(4)]
    for at in (cut, opened):
        assert any(0 <= u - (t0 + at) <= 30 for u in ups)
    # a cut strap is reported once, not at every wake
    assert len(run.logs("tamper", "WARN")) == 4  # "<kind> at t" and "stored", twice


def test_a_low_battery_is_stored_and_signalled_once_across_deep_sleeps(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # the cell falls below low_battery_pct (15 %) 20 min in, then stays there: one low-battery
    # event, one signal to the wearer (charge the tag), however many wakes from deep sleep follow
    low = 3550  # 8 % by the shell's curve
    run = run_board(
        tmp_path, firmware, plain(tmp_path, server.port, False), 3600,
        events=[[1200, "battery_mv", low]],
    )  # fmt: skip
    assert run.value("DEEPSLEEPS") >= 30
    stored = [e for e in server.events() if e[1] == R.EV_LOW_BATTERY]
    assert len(stored) == 1, stored
    warned = run.logs("battery", "WARN")
    assert len(warned) == 1, [m.group(0) for m in warned]
    signals = run.logs("signal")
    assert len(signals) == 1 and int(signals[0].group(1)) >= int(warned[0].group(1))
