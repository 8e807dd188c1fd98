"""The simulator's uplink path: the tag's real client through a link model (latency, loss,
coverage gaps) into a server, measured at the server: alert to server, fixes delivered.

The server is tests/uplink_server_double.py (a test double of the protocol) until the real
server is merged; the link model is simulator/tagsim/uplinklink.py."""

from __future__ import annotations

from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.uplink.client import UplinkClient
from tagsim.uplinklink import LinkModel, upload
from test_store import MemFs, mkfix
from uplink_server_double import ProtocolDouble

KEY = bytes(range(7, 39))
TID = b"SIMTAG01"
T0 = 800_000_000
UPLOAD_EVERY = 900


def wear(link: LinkModel, hours: int, alert_at: int) -> tuple[ProtocolDouble, dict, int]:
    """A wearer at 1 fix/min; uploads every 15 min, and at once after an alert (retried each
    minute until acknowledged). Returns the server, the tag's log {seq: t} and the alert seq."""
    srv = ProtocolDouble({TID: KEY})
    st = Store(MemFs(), T0, max_segments=1000, seg_bytes=1024)
    c = UplinkClient(st, TID, KEY)
    log = {st.boot_seq: T0}
    next_up = T0 + UPLOAD_EVERY
    alert_seq = 0
    busy_until = T0
    for k in range(hours * 60):
        t = T0 + 60 * k
        seq, _ = st.append_fix(mkfix(k, t), t)
        log[seq] = t
        if t == T0 + alert_at:
            alert_seq, _ = st.append_event(R.EV_ZONE, t, b"\x03\x01")
            log[alert_seq] = t
            c.alert(alert_seq)
            next_up = t
        if t >= next_up and t >= busy_until:
            busy_until, _ok, failed = upload(c, link, srv.handle, t)
            pending = alert_seq and (TID, alert_seq) not in srv.recs
            next_up = t + (60 if pending or failed else UPLOAD_EVERY)
    t = T0 + hours * 3600
    while c.due():  # the end of the wear: drain what is left
        t, _, _ = upload(c, link, srv.handle, t)
        t += 60
    return srv, log, alert_seq


def test_alert_reaches_the_server_once_coverage_is_back_and_every_fix_arrives() -> None:
    gap = (T0 + 5400, T0 + 9000)  # no coverage from 1.5 h to 2.5 h
    link = LinkModel(latency_s=2.0, loss=0.1, gaps=[gap], seed=3)
    srv, log, alert = wear(link, hours=6, alert_at=7200)  # the alert at 2 h, inside the gap
    arrived = srv.arrived[(TID, alert)]
    assert arrived is not None
    delay = arrived - (T0 + 7200)
    # At the server within a minute's retry (and any losses) of coverage coming back.
    assert gap[1] - (T0 + 7200) <= delay <= gap[1] - (T0 + 7200) + 60 * 5
    assert {s for (_, s) in srv.recs} == set(log)  # fixes delivered: all, each stored once
    assert srv.acked(TID) == max(log)
    assert link.counts["no_coverage"] >= 1 and link.counts.get("request_lost", 0) >= 1


def test_with_coverage_an_alert_is_at_the_server_within_the_latency() -> None:
    link = LinkModel(latency_s=2.0, loss=0.0, seed=1)
    srv, log, alert = wear(link, hours=3, alert_at=3600 + 420)
    arrived = srv.arrived[(TID, alert)]
    assert arrived is not None and arrived - (T0 + 3600 + 420) <= 1.0  # half the round trip
    assert {s for (_, s) in srv.recs} == set(log)
