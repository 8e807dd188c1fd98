"""The whole tag firmware (boot.py, main.py, tagdevice, tagcore as built for the ESP32) on a
simulated board in the real MicroPython unix port: fakes for the hardware, a littlefs flash, a
GNSS receiver on the PMU's rail sending NMEA over the UART, and the real `opentag server` on
loopback. It boots, takes fixes, raises a zone alert and uploads it; a corrupt provisioning
file is refused with a logged reason and a safe fallback."""

from __future__ import annotations

from pathlib import Path

from devicekit import (
    RealServer,
    Run,
    compile_config,
    compile_zones,
    run_board,
    write_prov,
)
from micropython_runner import run_micropython
from tagcore.store import record as R

# what the board driver itself prints (tests/mpy/device_board.py), not the firmware
BOARD_LINES = (
    "WORLD", "MEM", "END", "BOOTS", "DEEPSLEEPS", "CUTS", "WDT", "SLEEPS", "EPOCHS", "RX",
    "LIGHT_MS", "IDLE_MS", "PMU_REG", "OLED_LIT", "SLEEP_UA"
)  # fmt: skip


def test_boots_takes_fixes_raises_a_zone_alert_and_uploads_it(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=300)
    prov = write_prov(tmp_path / "prov", server.port, config=cfg, zones=compile_zones(tmp_path))
    run = run_board(tmp_path, firmware, prov, duration_s=2 * 3600)
    (b,) = run.banners()
    assert b.group(2) == "tbeam_v11_axp192" and b.group(4) == "pwron" and b.group(5) == "normal"
    assert b.group(3) == run_micropython(code="import sys; print(sys.implementation._mpy)").strip()
    # every line after the banner is a log line
    after = run.lines[run.lines.index(b.string) + 1 :]
    assert all(run_ln.startswith(BOARD_LINES) or Run(run_ln).logs() for run_ln in after), [
        ln for ln in after if not Run(ln).logs()
    ][:5]
    fixes = run.logs("fix")
    assert len(fixes) >= 100  # 1/min, and at 1 Hz while the zone is near
    alerts = run.logs("zones", "WARN")
    # the approach warning first (the wearer's only), then the breach (stored, for the server)
    kinds = [a.group(4).split()[2] for a in alerts]
    assert "zone=7" in alerts[0].group(4) and kinds[0] == "kind=3" and "kind=1" in kinds
    breach = alerts[kinds.index("kind=1")]
    signals = run.logs("signal")
    assert signals and int(signals[0].group(1)) == int(alerts[0].group(1))
    # the receiver was powered only while searching: light sleep in between (zones keep RAM
    # state, so no deep sleep)
    assert run.value("DEEPSLEEPS") == 0 and run.value("SLEEPS") > 100
    got = server.fixes()
    seqs = [f[0] for f in got]
    assert len(seqs) == len(set(seqs)) and len(got) >= len(fixes) - 30
    zone_events = [e for e in server.events() if e[1] == R.EV_ZONE]
    assert zone_events, server.events()
    # the alert went out at once: the server has it within a minute of the tag logging it
    t_alert = int(breach.group(1))
    ups = [m for m in run.logs("uplink") if "status=1" in m.group(4) and int(m.group(1)) >= t_alert]
    assert ups and int(ups[0].group(1)) - t_alert <= 60
    assert server.acked() > 0
    # the tag seals (docs/evidence.md): the breach was sealed before it went out, and the
    # server verified that seal before it stored the batch
    unsealed = server.rows(  # zone events whose seal did not come in the batch that brought them
        f"SELECT e.seq FROM events e WHERE e.tag = ? AND e.kind = {R.EV_ZONE} AND NOT EXISTS "
        "(SELECT 1 FROM anchors a WHERE a.tag = e.tag AND a.batch_id = e.batch_id "
        "AND a.hi >= e.seq)"
    )
    assert zone_events and unsealed == []


def test_the_backlog_behind_an_alert_batch_goes_out_at_once(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # the link down across the zone visit: more backlog than a batch holds, so when it is back
    # the alert goes first in a small batch of its own, which does not move the acknowledged
    # point; the backlog must follow at once, not at the next 15-min upload
    cfg = compile_config(tmp_path, fix_interval_s=60, upload_interval_s=900)
    prov = write_prov(tmp_path / "prov", server.port, config=cfg, zones=compile_zones(tmp_path))
    back = 5400
    run = run_board(
        tmp_path, firmware, prov, duration_s=2 * 3600, events=[[600, "link", 0], [back, "link", 1]]
    )
    (t_back,) = [int(ln.split()[1]) for ln in run.lines if ln.startswith("WORLD") and "link" in ln][
        1:
    ]
    assert any(a.group(4).split()[2] == "kind=1" for a in run.logs("zones", "WARN"))
    ups = [m for m in run.logs("uplink") if "status=1" in m.group(4) and int(m.group(1)) >= t_back]
    assert ups and int(ups[0].group(1)) - t_back <= 90, [m.group(0) for m in run.logs("uplink")]
    assert ups[0].group(4).endswith(" records=0")  # the alert's own batch (what this checks)
    moved = [int(m.group(1)) for m in ups if not m.group(4).endswith(" records=0")]
    assert moved and moved[0] - int(ups[0].group(1)) <= 60, [m.group(0) for m in ups]
