"""The whole firmware's Bluetooth scanning on the simulated board: the fake `bluetooth`
(tests/mpy/fake_bluetooth: gap_scan, _IRQ_SCAN_RESULT with memoryviews into a buffer the stack
reuses, _IRQ_SCAN_DONE) and the victim's beacon running firmware/beacon's app on its own BLE.
The tag holds the beacon's identifier window (tagkit.beaconwindow, as `opentag beacon window`
writes it), raises "near" and uploads it to the real server at once; a crowd of advertisers
that floods the scanner's ring is counted and reported, never a crash."""

from __future__ import annotations

from pathlib import Path

from devicekit import (
    RealServer,
    Run,
    compile_config,
    now_2000,
    run_board,
    write_prov,
)
from tagcore import events as E
from tagcore.proximity import monitor as P
from tagcore.store import record as R
from tagkit.beaconwindow import window_blob

SECRET = b"victim-beacon-secret-0123456789a"
IVS = 900  # the beacon's identifier interval (beaconid.DEFAULT_INTERVAL_S)


def ble_run(tmp: Path, firmware: Path, server: RealServer, secs: int, **air: object) -> Run:
    t0 = now_2000() - secs
    cfg = compile_config(tmp, fix_interval_s=60, upload_interval_s=300)
    window = window_blob(SECRET, 0, t0 // IVS - 8, 48 * 4 + 16)  # 2 days around the run
    prov = write_prov(tmp / "prov", server.port, config=cfg, beacon=window)
    return run_board(tmp, firmware, prov, secs, t0=t0, ble={"secret": SECRET.hex(), **air})


def prox_logged(run: Run) -> list[tuple[int, int]]:
    """(t, kind) of every proximity decision the tag logged."""
    out = []
    for m in run.logs("proximity"):
        kind = int(m.group(4).split("kind=")[1])
        out.append((int(m.group(1)), kind))
    return out


def prox_at_server(server: RealServer) -> list[P.Event]:
    return [E.decode(e[1], e[2], e[3]) for e in server.events() if e[1] == R.EV_PROXIMITY]


def test_the_victims_beacon_in_range_raises_near_and_the_server_has_it_at_once(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    near = (600, 1500)  # s from the start: the victim's beacon 1-2 m away (-58 dBm)
    run = ble_run(tmp_path, firmware, server, 1800, near=[[near[0], near[1], -58]])
    assert run.value("BOOTS") == 1 and not run.logs("main")  # no crash, no reset
    t0 = int(run.logs()[0].group(1))
    got = prox_logged(run)
    kinds = [k for _, k in got]
    assert kinds[:2] == [P.K_NEARBY, P.K_NEAR], got
    t_near = got[1][0]
    # first seen within a slow scan period of arriving; near after the dwell, on fast scans
    assert t0 + near[0] <= got[0][0] <= t0 + near[0] + 45
    assert t_near - got[0][0] <= 30
    # the alert goes out at once: an acknowledged upload within a minute of it
    ups = [int(m.group(1)) for m in run.logs("uplink") if "status=1" in m.group(4)]
    assert any(t_near <= u <= t_near + 60 for u in ups)
    at_server = prox_at_server(server)
    assert [e.kind for e in at_server][:2] == [P.K_NEARBY, P.K_NEAR]
    assert at_server[1].beacon == 0 and at_server[1].rssi >= -60
    # nothing before the beacon came; it is left behind once it has gone
    assert all(t >= t0 + near[0] for t, _ in got)
    assert P.K_NEAR_EXIT in kinds and got[kinds.index(P.K_NEAR_EXIT)][0] >= t0 + near[1]


def test_a_crowd_that_floods_the_scanner_is_counted_and_reported_not_a_crash(
    tmp_path: Path, firmware: Path, server: RealServer
) -> None:
    # 16 advertisers of the opentag frame every 20 ms for 30 s: the scanner's ring of 16 fills
    # between drains and reports are lost
    run = ble_run(tmp_path, firmware, server, 900, near=[], crowd=[300, 330, 16])
    assert run.value("BOOTS") == 1 and not run.logs("main"), run.out[-2000:]
    got = prox_logged(run)
    assert [k for _, k in got] == [P.K_FLOODED]  # once (at most one per flood_s)
    flooded = [e for e in prox_at_server(server) if e.kind == P.K_FLOODED]
    assert len(flooded) == 1 and flooded[0].beacon == P.ANY_BEACON and flooded[0].rssi > 0
    assert len(run.logs("fix")) >= 14  # tracking went on through it
