"""Issue 14 item 1: every alert the tag stores (tamper, proximity, zone, loss of location) goes
out the moment a link is there, and a scenario can require it at the server
(`max_alert_upload_delay_s`)."""

from __future__ import annotations

import simworld
from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.fix import Fix
from tagcore.proximity.monitor import Event
from tagcore.zones.monitor import A_BREACH, A_LOC_LOST, zone_alert
from tagkit.memfs import MemFs
from tagsim import metrics, runner
from tagsim.scenario import parse

T0 = simworld.START
FIX = Fix(T0 + 5, 0, 52_520_000, 13_370_000, 350, 0, 0, 60, 90, 9, 1, 3, 1)


class OneAlertZones:
    """Stand-in zone monitor: one alert of `kind` on the first fix."""

    def __init__(self, kind: int) -> None:
        self.kind, self.done = kind, False

    def on_fix(self, now, fix):
        if self.done:
            return ()
        self.done = True
        return (zone_alert(self.kind, fix.t, 5, 1, 1, (fix,)),)

    def on_no_fix(self, now):
        return ()

    def wanted_interval(self, now):
        return 60


class OneAlertProximity:
    """Stand-in proximity core: one decision of `kind` (2 near, 6 GNSS in) on the first scan."""

    def __init__(self, kind: int) -> None:
        self.events = [Event(T0, kind, 0, 1, -60, -1, [T0], [-60])]

    def on_scan(self, now, addr, rssi, adv):
        return 0

    def on_scan_end(self, now):
        pass

    def on_fix(self, now, fix):
        pass

    def on_victim_position(self, now, lat, lon, acc_dm, beacon=0):
        pass

    def next_scan(self, now):
        return now + 10**6, 2000

    def urgent(self):
        return False

    def pop_event(self):
        return self.events.pop(0) if self.events else None


def _raise(kind: str, tag: TagApp, now: int) -> None:
    """Make the tag store an alert of this kind at `now`."""
    if kind == "tamper":
        tag.tamper(now, "strap_cut")
    elif kind in ("zone", "loc_lost_zone"):
        tag.planner.search_from = now
        tag._zone_alerts(now, tag.zones.on_fix(now, FIX._replace(t=now)))
        tag.plan(now)
    elif kind == "loc_lost":  # a search gives up without a zone core: EV_LOC_LOST
        tag.planner.search_from = now - tag.cfg.max_search_s
        tag.plan(now)
    else:
        tag.scan_result(now, "aabbccddeeff", -60, b"")


def _tag(kind: str, upload_s: int) -> TagApp:
    cfg = TagConfig(upload_interval_s=upload_s, fix_interval_s=10**5)
    zones = {"zone": OneAlertZones(A_BREACH), "loc_lost_zone": OneAlertZones(A_LOC_LOST)}
    prox = {"near": OneAlertProximity(2), "gnss_in": OneAlertProximity(6)}
    return TagApp(cfg, MemFs(), T0, zones.get(kind), prox.get(kind))


KINDS = ("tamper", "zone", "loc_lost_zone", "loc_lost", "near", "gnss_in")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(KINDS),
    st.integers(60, 86_400),  # the regular upload interval
    st.integers(1, 3_000),  # the alert, this long after the link went down
    st.integers(1, 3_000),  # the link back, this long after the alert
)
def test_every_alert_goes_out_when_the_link_returns(kind, upload_s, down_for, back_after):
    tag = _tag(kind, upload_s)
    t_down = T0 + 30
    tag.link(t_down, False)
    t_alert = t_down + down_for
    _raise(kind, tag, t_alert)
    assert tag.alert_unsent, kind  # stored, not yet at the server
    ups = [e for e in tag.take_events() if e[0] == "U"]
    assert all(u[2] == 0 for u in ups)  # tried without a link: failed
    t_up = t_alert + back_after
    tag.wake(t_up - 1)  # the regular schedule may have come and gone meanwhile
    tag.link(t_up, True)
    ups = [e for e in tag.take_events() if e[0] == "U" and e[2] == 1]
    assert ups and ups[0][1] <= t_up, (kind, ups)
    assert not tag.alert_unsent


def test_alert_with_the_link_up_goes_out_at_once() -> None:
    for kind in KINDS:
        tag = _tag(kind, 86_400)
        _raise(kind, tag, T0 + 100)
        ups = [e for e in tag.take_events() if e[0] == "U" and e[2] == 1]
        assert ups and ups[0][1] == T0 + 100, kind


def test_scenario_expects_alert_delivery_at_the_server() -> None:
    # a strap cut inside a coverage gap: the alert is at the server when the link returns
    # (300 s later), not at the next regular upload an hour on
    d = simworld.doc(
        tag={"upload_interval_s": 3600},
        coverage_gaps=[{"start": "2026-03-02T08:05:00Z", "end": "2026-03-02T08:15:00Z"}],
        tamper=[{"at": "2026-03-02T08:10:00Z", "kind": "strap_cut"}],
        expect={"max_alert_upload_delay_s": 310, "min_tamper_events": 1},
    )
    res = runner.run_scenario(parse(d, "<t>"))
    assert res.metrics["alerts_stored"] == 1 and res.metrics["alerts_never_uploaded"] == 0
    assert 290 <= res.metrics["alert_upload_delay_max_s"] <= 310
    assert not res.red, res.checks


def test_alert_upload_delays_are_measured_from_each_stored_alert() -> None:
    lines = [
        (100, "T 100 1"),
        (100, "U 100 0 0"),
        (150, "P 150 0 2 0 -60 -1"),  # K_NEAR: an alert
        (160, "P 160 0 1 0 -70 -1"),  # K_NEARBY: not one
        (400, "U 400 1 9"),
        (500, "A 500 1 1 1 1 500 3"),  # A_BREACH
        (500, "U 500 1 2"),
        (900, "L 900"),  # without zones the app's own loss of location (never uploaded)
    ]
    assert metrics.alert_upload_delays(lines) == [300, 250, 0]
    assert len(metrics.stored_alerts(lines)) == 4
    assert len(metrics.stored_alerts(lines, zones=True)) == 3


def test_alerts_only_policy_uploads_a_heartbeat_and_alerts_at_once() -> None:
    cfg = TagConfig(upload_interval_s=900, fix_interval_s=10**5, upload_policy=1)
    tag = TagApp(cfg, MemFs(), T0)
    for t in range(T0, T0 + 4 * 3600 + 1, 60):
        tag.wake(t)
    ev = tag.take_events()
    ups = [e[1] for e in ev if e[0] == "U"]
    t_lost = next(e[1] for e in ev if e[0] == "L")  # the first search gives up: an alert
    assert ups == [t_lost + k * 3600 for k in range(4)]  # then a heartbeat 4 x 900 s apart
    tag.tamper(T0 + 14500, "case_open")
    assert [e[1] for e in tag.take_events() if e[0] == "U"] == [T0 + 14500]


class FakeClient:
    """Stand-in with tagcore.uplink's UplinkClient calls: request(now) -> body, on_reply(now,
    body) -> the acknowledged seq (None: refused), on_failure(now)."""

    def __init__(self, store) -> None:
        self.store, self.requests, self.failures = store, [], []

    def request(self, now):
        self.requests.append(now)
        return b"batch %d" % self.store.durable_seq()

    def on_reply(self, now, body):
        return None if body == b"forged" else int(body)

    def on_failure(self, now):
        self.failures.append(now)


def test_an_external_uplink_client_sends_and_the_reply_acknowledges() -> None:
    cfg = TagConfig(upload_interval_s=600, fix_interval_s=10**5)
    tag = TagApp(cfg, MemFs(), T0)
    tag.uplink = FakeClient(tag.store)
    tag.tamper(T0 + 10, "strap_cut")  # an alert: the request goes out at once
    assert tag.uplink_request is not None and tag.uplink.requests == [T0 + 10]
    assert not [e for e in tag.take_events() if e[0] == "U"]  # nothing until the reply
    tag.wake(T0 + 11)  # no second request while one is out
    assert tag.uplink.requests == [T0 + 10]
    tag.uplink_reply(T0 + 12, b"forged")  # refused by the client: not acknowledged
    assert [e[2] for e in tag.take_events() if e[0] == "U"] == [2] and tag.alert_unsent
    tag.tamper(T0 + 20, "case_open")
    tag.uplink_failed(T0 + 25)  # the transport failed
    assert tag.uplink.failures == [T0 + 25] and tag.alert_unsent
    tag.tamper(T0 + 30, "removed")
    tag.uplink_reply(T0 + 31, str(tag.store.durable_seq()).encode())
    assert [e[2] for e in tag.take_events() if e[0] == "U"][-1] == 1 and not tag.alert_unsent
