"""The simulator's uplink path: the tag's real client (tagcore.uplink) through a link model
(latency, loss, coverage gaps; simulator/tagsim/uplinklink.py) into the real `opentag server`
(taghost.server on a loopback port, SQLite and PostgreSQL), measured at the server."""

from __future__ import annotations

from tagcore.fix import Fix
from tagcore.store import Store
from tagcore.uplink.client import UplinkClient
from taghost.server import wire
from test_store import MemFs

KEY = bytes(range(7, 39))
TID = b"SIMTAG01"
T0 = 800_000_000


def test_a_still_wearers_packed_run_is_accepted_by_the_server() -> None:
    # Failed before: the server refused any run of fewer than 5 bytes a fix as malformed, but
    # a packed run of a wearer at rest costs the first fix and a few bits for each other one:
    # a night at home never reached the server (found by the simulator's [server] runs).
    st = Store(MemFs(), T0, max_segments=100, seg_bytes=4096)
    for k in range(64):
        st.append_fix(Fix(T0 + 60 * k, 0, 52520000, 13370000, 340, 0, 0, 35, 90, 9, 1, 3, 2), T0)
    c = UplinkClient(st, TID, KEY)
    body = bytes(c.request(T0 + 3900))
    env = wire.open_envelope(body)
    b = wire.parse_batch(wire.verify(env, KEY), env.kid)
    runs = [r for r in b.recs if isinstance(r, wire.FixRun)]
    assert sum(len(r.fixes) for r in runs) == 64
    assert len(body) < 64 * 5  # the reason it was refused: under 5 bytes a fix on the wire


# ---- a scenario through the real server ---------------------------------------------------
import dataclasses  # noqa: E402

import pytest  # noqa: E402
from tagsim import engine, hooks, metrics, runner, runtime, scenario  # noqa: E402
from tagsim.uplinklink import SimServer  # noqa: E402

GAP_BEFORE_S = 300  # the coverage gap opens this long before the zone alert
GAP_AFTER_S = 900  # and closes this long after it


def zone_entry(loss: float, gap_around: int | None = None) -> scenario.Scenario:
    sc = scenario.load(runner.SCENARIOS / "zone_entry.toml")
    sl = scenario.ServerLink(None, 2.0, loss, 30.0, TID, KEY)
    gaps = ()
    if gap_around is not None:
        gaps = (scenario.Window(gap_around - GAP_BEFORE_S, gap_around + GAP_AFTER_S),)
    return dataclasses.replace(sc, server=sl, coverage_gaps=gaps)


def alert_time(run: engine.Run) -> int:
    """When the tag raised its first confirmed zone breach ("A" line, kind 1)."""
    return next(
        t for t, ln in run.log.tag_lines if ln.split()[:1] == ["A"] and ln.split()[3] == "1"
    )


class WatchedTag(runtime.LocalTag):
    """The CPython tag, with every truncation of its log checked against the server's database:
    each record the store deletes must be there already."""

    def __init__(self, srv: SimServer, zone_blob: bytes | None) -> None:
        super().__init__(zone_blob=zone_blob, uplink=(TID, KEY))
        self.srv = srv
        self.deleted = 0

    def boot(self, cfg, now):  # type: ignore[no-untyped-def]
        out = super().boot(cfg, now)
        assert self.t is not None
        st = self.t.store
        ack = st.ack

        def watched(seq: int) -> int:
            before = {r[0] for r in st.read(1, 1 << 30, True)[0]}
            n = ack(seq)
            gone = before - {r[0] for r in st.read(1, 1 << 30, True)[0]}
            v = self.srv.view(TID)
            held = {s for s, *_ in v["fixes"]} | {s for s, *_ in v["events"]}
            assert gone <= held, f"deleted before the server held them: {sorted(gone - held)}"
            self.deleted += len(gone)
            return n

        st.ack = watched  # type: ignore[method-assign]
        return out


def test_zone_alert_in_a_coverage_gap_reaches_the_real_server_once(server_db_url) -> None:
    # Where the alert falls: the same scenario without a gap (the zone core's timing does not
    # depend on coverage: the receiver runs the same).
    probe = engine.run(zone_entry(0.0), tag=runtime.LocalTag(uplink=(TID, KEY), zone_blob=None))
    sc0 = zone_entry(0.0)
    blob = hooks.zone_blob(sc0)
    t_alert = alert_time(engine.run(sc0, tag=runtime.LocalTag(zone_blob=blob, uplink=(TID, KEY))))
    assert probe.server is not None and probe.server["alerts"] == []  # no zones, no alert
    sc = zone_entry(0.1, gap_around=t_alert)
    srv = SimServer(server_db_url)
    try:
        tag = WatchedTag(srv, blob)
        run = engine.run(sc, tag=tag, server=srv)
        m = metrics.compute(run, zones_active=True)
    finally:
        srv.stop()
    assert alert_time(run) == t_alert
    v = run.server
    assert v is not None
    # every record the tag stored up to the server's acknowledged point is there, once
    stored = {int(ln.split()[7]) for _, ln in run.log.tag_lines if ln.startswith("F ")}
    got = [s for s, *_ in v["fixes"]]
    assert len(got) == len(set(got)) and m["records_stored_twice"] == 0
    assert set(got) <= stored and {s for s in stored if s <= v["acked"]} <= set(got)
    assert m["fixes_delivered"] == len(got) and m["fixes_delivered_pct"] > 50
    # the alert: one row at the server, measured there, once coverage came back
    rows = [a for a in v["alerts"] if a["kind"] == "zone_breach"]
    assert len(rows) == 1
    back = t_alert + GAP_AFTER_S
    delay = m["alert_to_server_max_s"]
    assert rows[0]["at"] - rows[0]["t"] == delay
    assert back - t_alert <= delay <= back - t_alert + 5 * 60  # retried on back-off, losses
    assert m["server_delay_max_s"] is not None and m["server_delay_max_s"] >= delay
    # nothing was deleted on the tag before the server held it (checked at every truncation)
    assert tag.deleted > 0
    assert run.link_counts is not None and run.link_counts.get("delivered", 0) > 5


@pytest.mark.parametrize("loss", [0.0, 0.2])
def test_both_runtimes_send_the_same_bytes_to_the_real_server(loss: float) -> None:
    sc = zone_entry(loss)
    a = runner.run_scenario(sc, "cpython")
    b = runner.run_scenario(sc, "micropython")
    assert b.run.log.out_of_memory is None
    assert a.run.log.tag_lines == b.run.log.tag_lines
    assert a.run.server is not None and b.run.server is not None
    assert a.run.server["fixes"] == b.run.server["fixes"]
    assert a.run.server["alerts"] == b.run.server["alerts"]
    assert a.metrics["fixes_delivered"] == b.metrics["fixes_delivered"] > 1000
    if loss:
        assert a.run.link_counts == b.run.link_counts
        assert a.run.link_counts["request_lost"] + a.run.link_counts["reply_lost"] > 0


def test_make_demo_shows_the_path_into_the_server_and_writes_its_exports(tmp_path) -> None:
    import json
    import subprocess
    import sys

    import gpxpy

    p = subprocess.run(
        [sys.executable, "-m", "taghost.demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    assert "The server's view (JSON API):" in p.stdout
    assert "alert zone_breach zone 1: tag raised" in p.stdout
    for name in ("commute", "zone-entry-server"):
        run = tmp_path / name
        assert (run / "report.html").exists() and (run / "metrics.json").exists()
        state = json.loads((run / "server" / "tag.json").read_text())
        tag = state["tag"]
        gj = json.loads((run / "server" / f"{tag}.geojson").read_text())
        gpx = gpxpy.parse((run / "server" / f"{tag}.gpx").read_text())
        pts = [pt for trk in gpx.tracks for seg in trk.segments for pt in seg.points]
        # the exports are the server's trail: as many points as fixes it holds, > 0
        assert state["fixes"] > 100
        assert (
            len([f for f in gj["features"] if f["geometry"]["type"] == "Point"]) == state["fixes"]
        )
        assert len(pts) == state["fixes"]
        m = json.loads((run / "metrics.json").read_text())["metrics"]
        assert m["measured_at"] == "server" and m["fixes_delivered"] == state["fixes"]
