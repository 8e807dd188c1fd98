"""The whole firmware driving its receiver (the model plan, cfg.gnss_plan 1) on the simulated
T-Beam v1.1 (NEO-M8N on the AXP192's LDO3) in the MicroPython unix port: the shell writes the
power state machine's command bytes to the UART and switches the rail through the PMU, and the
board's receiver (tests/mpy/device_board.py) obeys the bytes as the u-blox protocol says:
set-up acknowledged, power save, backup (silent, RAM kept: hot starts), a NAK, a command it
never answers, and its own jamming report (UBX-MON-RF) reaching the integrity checks and the
real server."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from devicekit import (
    BOARDS,
    RealServer,
    Run,
    compile_config,
    run_board,
    write_prov,
)
from tagcore.gnss import integrity as I
from tagcore.store import record as R

COLD_S = 26  # the NEO-M8N's cold start (the profile's datasheet figure)
HOT_S = 2  # a hot start from backup (field figures start at 2 s)
# ublox_m8.setup(): NMEA off, the interference monitor, MON-RF and NAV-STATUS out, rate, save
SETUP = ["CFG-MSG"] * 3 + ["CFG-ITFM", "CFG-MSG", "CFG-MSG", "CFG-RATE", "CFG-CFG"]
SETUP_M10 = ["CFG-VALSET"] * 3  # ublox_m10.setup(): NMEA, SBAS off, integrity reports


def rx_lines(run: Run) -> list[tuple[int, str, str]]:
    """(t, what, outcome) of every RX line the board's receiver printed."""
    out = []
    for ln in run.lines:
        if ln.startswith("RX "):
            _, t, what, how = ln.split(" ", 3)
            out.append((int(t), what, how))
    return out


def power_counts(run: Run) -> dict[str, int]:
    """The power state machine's counts as the shell logged them (the last value of each)."""
    got = {}
    for m in run.logs("gnss"):
        if m.group(4).startswith("power "):
            k, v = m.group(4)[6:].split("=")
            got[k] = int(v)
    return got


def model_run(
    tmp: Path,
    firmware: Path,
    server: RealServer,
    fix_s: int,
    secs: int,
    board: str = "tbeam_v11_axp192",
    plan: int = 1,
    **rx: object,
) -> Run:
    cfg = compile_config(tmp, fix_interval_s=fix_s, upload_interval_s=300, gnss_plan=plan)
    prov = write_prov(tmp / "prov", server.port, board=board, config=cfg)
    rx.setdefault("hot_ttff_s", HOT_S)
    return run_board(tmp, firmware, prov, secs, ttff_s=COLD_S, rx_commands=True, **rx)


def test_a_fix_a_minute_sleeps_the_receiver_in_backup_and_wakes_it_hot(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    run = model_run(tmp_path, firmware, server, 60, 1800)
    rx = rx_lines(run)
    assert rx[0][1:] == ("rail", "on cold")
    # the set-up, each command acknowledged once: no retry, nothing unanswered
    assert [(w, h) for _, w, h in rx[1 : 1 + len(SETUP)]] == [(w, "ack") for w in SETUP]
    counts = power_counts(run)
    assert counts == {"ack": len(SETUP)}, counts
    fixes = [int(m.group(1)) for m in run.logs("fix")]
    assert fixes[0] - rx[0][0] >= COLD_S  # the first start is cold
    # after each fix the receiver goes to backup; the next fix wakes it with a UART byte and
    # it starts hot: the rail is never cut, no set-up is sent again
    after = rx[1 + len(SETUP) :]
    backups = [t for t, w, h in after if (w, h) == ("RXM-PMREQ", "backup")]
    wakes = [t for t, w, h in after if (w, h) == ("woken", "hot")]
    assert {w for _, w, _ in after} == {"RXM-PMREQ", "woken"}, after[:10]
    assert len(backups) >= 28 and len(wakes) >= 27
    for t in wakes:
        nxt = [f for f in fixes if f >= t]
        assert nxt and nxt[0] - t <= HOT_S + 1  # a hot start: the fix within seconds
    gaps = [b - a for a, b in itertools.pairwise(fixes[1:])]
    assert max(gaps) <= 61  # one fix a minute, kept
    # the receiver slept: about a second of output per fix, not 1,800 epochs
    assert run.value("EPOCHS") < COLD_S + 8 * len(fixes)
    assert "mode backup" in {m.group(4) for m in run.logs("gnss")}
    assert len(server.fixes()) >= len(fixes) - 6  # all but the last upload interval's


def test_a_nak_and_a_command_never_answered_each_have_their_outcome(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # a receiver that refuses power save (NAK) and never answers CFG-RATE (a timeout)
    run = model_run(tmp_path, firmware, server, 15, 600, rx_power_save=False, rx_mute=["CFG-RATE"])
    rx = rx_lines(run)
    said = [(w, h) for _, w, h in rx]
    # CFG-RATE unanswered: sent, resent twice, then given up; the set-up goes on
    i = said.index(("CFG-RATE", "mute"))
    assert said[i : i + 4] == [("CFG-RATE", "mute")] * 3 + [("CFG-CFG", "ack")]
    # power save refused: marked unsupported, back to continuous (acknowledged), never
    # tried again
    j = said.index(("CFG-RXM", "nak"))
    assert said[j - 1] == ("CFG-PM2", "ack") and said[j + 1] == ("CFG-RXM", "continuous")
    assert ("CFG-PM2", "ack") not in said[j:]
    counts = power_counts(run)
    assert counts["no_reply"] == 1 and counts["retry"] == 2 and counts["setup_incomplete"] == 1
    assert counts["nak"] == 1 and counts["cyclic_refused"] == 1
    assert "mode_by_rail" not in counts  # no power cycle for either
    # tracking goes on at the 15 s interval on full power
    fixes = [int(m.group(1)) for m in run.logs("fix")]
    t_nak = rx[j][0]
    later = [f for f in fixes if f > t_nak]
    assert len(later) >= (run.value("END") - t_nak) // 17
    assert [w for _, w, _ in rx].count("rail") == 1  # the rail came on once, never cut


@pytest.mark.parametrize(
    ("board", "setup"), [("tbeam_v11_axp192", SETUP), ("tbeam_supreme_m10", SETUP_M10)]
)
def test_power_save_and_the_receivers_jamming_report_reach_the_server(
    tmp_path: Path, firmware: Path, server: RealServer, board: str, setup: list[str]
) -> None:
    # from 300 s to 400 s a jammer: no fix, and the receiver's interference monitor says
    # critical, in the reports the tag's set-up turned on (the receiver sends none unasked)
    jam = (300, 400)
    run = model_run(tmp_path, firmware, server, 15, 600, board=board, jam=[list(jam)])
    said = [(w, h) for _, w, h in rx_lines(run)]
    assert said[1 : 1 + len(setup)] == [(w, "ack") for w in setup]
    if board == "tbeam_v11_axp192":
        assert ("CFG-RXM", "power_save") in said  # the receiver runs its own power save
        assert power_counts(run) == {"ack": len(SETUP) + 2}  # CFG-PM2, CFG-RXM
    else:
        assert power_counts(run) == {"ack": len(SETUP_M10) + 1}  # the power-save VALSET
    t0 = int(run.logs()[0].group(1))
    alerts = [m for m in run.logs("gnss", "WARN") if m.group(4).startswith("integrity")]
    assert len(alerts) == 1 and f"kind={I.K_RX_JAMMING}" in alerts[0].group(4)
    t = int(alerts[0].group(1))
    assert t0 + jam[0] <= t <= t0 + jam[0] + 60  # while listening for fixes, within a minute
    ev = [e for e in server.events() if e[1] == R.EV_INTEGRITY]
    assert ev, server.events()
    assert any(int(m.group(1)) >= t and "status=1" in m.group(4) for m in run.logs("uplink"))


@pytest.mark.parametrize("board", ["tbeam_v11_axp192", "tbeam_supreme_m10"])
def test_a_jammed_sky_warns_once_and_logs_the_rest_of_the_episode_as_evidence(
    tmp_path: Path, firmware: Path, server: RealServer, board: str
) -> None:
    # the receiver's own flag and the tag's C/N0 checks both see the jammer (the sky's GSV
    # falls on every satellite together): one alert for the episode, the second detector's
    # report (K_MORE) and the episode's end (K_END) are evidence, logged as INFO, and reach
    # the server with the next upload (every 300 s)
    run = model_run(tmp_path, firmware, server, 15, 960, board=board, jam=[[300, 400]], rx_gsv=True)
    lines = [m for m in run.logs("gnss") if m.group(4).startswith("integrity")]
    said = [(m.group(2), int(m.group(4).split("kind=")[1].split()[0])) for m in lines]
    warned = [k for level, k in said if level == "WARN"]
    assert len(warned) == 1 and warned[0] < I.K_END, lines
    evidence = [k for level, k in said if level == "INFO"]
    assert evidence and all(k >= I.K_END for k in evidence), lines
    assert I.K_END in evidence  # the sky came back
    stored = [e for e in server.events() if e[1] == R.EV_INTEGRITY]
    assert len(stored) == len(lines), (stored, lines)


def test_an_l76k_goes_to_standby_by_pcas_and_starts_hot(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # T-Beam Supreme S3: Quectel L76K on the AXP2101's ALDO4; CASIC commands, never acknowledged
    doc = json.loads((BOARDS / "tbeam_supreme_s3.json").read_text())["gnss"]
    hot = int(doc["ttff_s"]["hot"])  # 5.5 s (L76K datasheet)
    # the MCU sleeps through the earliest field hot start (the profile's first decile), then
    # reads the epoch: the fix is taken by then
    listen = doc["ttff_field_s"]["hot"][0]
    run = model_run(tmp_path, firmware, server, 60, 900, board="tbeam_supreme_s3", hot_ttff_s=hot)
    rx = rx_lines(run)
    assert rx[0][1:] == ("rail", "on cold") and rx[1][1:] == ("PCAS03", "accepted")
    after = [(w, h) for _, w, h in rx[2:]]
    assert set(after) == {("PCAS12", "standby"), ("woken", "hot")}, after[:10]
    assert after[0] == ("PCAS12", "standby") and len(after) >= 26
    fixes = [int(m.group(1)) for m in run.logs("fix")]
    for t in [t for t, w, _ in rx if w == "woken"]:
        assert [f for f in fixes if t + hot <= f <= t + max(hot, listen) + 1], (t, fixes)
    assert not [k for k in power_counts(run) if k != "ack"]  # nothing refused or timed out


def test_the_fixed_plan_cuts_the_rail_hot_with_the_backup_cell_cold_without(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    run = model_run(tmp_path, firmware, server, 60, 900, plan=0)
    rx = rx_lines(run)
    assert {(w, h) for _, w, h in rx} == {("rail", "on cold"), ("rail", "on hot"), ("rail", "off")}
    assert rx[0][2] == "on cold" and {h for _, _, h in rx[1:]} == {"on hot", "off"}  # no command
    (tmp_path / "flat").mkdir()
    flat = RealServer(tmp_path / "flat")  # the T-Beam's backup cell run flat: RAM goes too
    try:
        run = model_run(tmp_path / "flat", firmware, flat, 60, 900, plan=0, rx_backup_cell=False)
    finally:
        flat.stop()
    rx = rx_lines(run)
    assert {(w, h) for _, w, h in rx} == {("rail", "on cold"), ("rail", "off")}
    ons = [t for t, _, h in rx if h == "on cold"]
    fixes = [int(m.group(1)) for m in run.logs("fix")]
    assert len(ons) >= 8
    for t in ons:  # each search waits out a cold start
        nxt = [f for f in fixes if f >= t]
        assert not nxt or nxt[0] - t >= COLD_S


def test_a_board_profile_without_the_receivers_model_falls_back_to_the_fixed_plan(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # board.json missing: the fallback board (DevKitC wiring) has no receiver model
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=300, gnss_plan=1)
    prov = write_prov(tmp_path / "prov", server.port, config=cfg)
    (prov / "board.json").unlink()
    run = run_board(tmp_path, firmware, prov, 900, board_ok=0, rx_commands=True)
    errs = [m.group(4) for m in run.logs("gnss", "ERROR")]
    assert len(errs) == run.value("BOOTS")  # said at every boot (it deep-sleeps: no zones)
    assert all("no receiver model" in e and e.endswith(": fixed plan") for e in errs), errs
    assert not [ln for ln in run.lines if ln.startswith("RX ") and "rail" not in ln]
    assert len(run.logs("fix")) >= 12 and not run.logs("main")  # tracking, no crash
