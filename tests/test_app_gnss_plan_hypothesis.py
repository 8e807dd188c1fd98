"""The model plan's promises hold for any run of lock times, failures and intervals
(hypothesis): a search is never capped below twice the worst cold start after a failure or
below twice the worst start it will be otherwise; the receiver never sleeps (backup / off) at
an interval of 10 s or less, and is never left searching once a search ended; the next search
never starts after its fix is due; back-off never applies near a zone."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.app.app import GNSS_BACKUP, GNSS_OFF, GNSS_ON, Planner
from tagcore.app.config import TagConfig
from tagcore.gnss import profile
from tagsim import boards

RX = {bid: profile.receiver(boards.load(bid).raw) for bid in boards.available()}


class Zones:
    def __init__(self) -> None:
        self.iv: int | None = None

    def wanted_interval(self, now: int) -> int | None:
        return self.iv


step = st.tuples(
    st.sampled_from(["lock", "fail"]),
    st.integers(1, 90),  # lock time, s
    st.sampled_from([None, None, 15, 30]),  # the zone core's wanted interval
)


@settings(max_examples=200, deadline=None)
@given(
    bid=st.sampled_from(sorted(RX)),
    interval=st.sampled_from([10, 15, 60, 120, 300, 900]),
    steps=st.lists(step, min_size=1, max_size=40),
)
def test_the_model_plan_keeps_its_promises(bid: str, interval: int, steps: list) -> None:
    rx = RX[bid]
    z = Zones()
    p = Planner(
        TagConfig(gnss_plan=1, fix_interval_s=interval, guard_kmh=0, max_search_s=5),
        1000,
        zones=z,
        rx=rx,
    )
    now = 1000
    for what, took, near in steps:
        z.iv = near
        now = max(now, p.next_fix)
        assert p.search_due(now)
        start = now
        failed_before = p.sched is not None and (p.sched.failures > 0 or p.sched.locks == 0)
        assert p.cap >= 2 * max(rx.cold_s if failed_before else rx.hot_s)
        assert p.gnss_mode(now) in (GNSS_ON, 1)  # searching: the receiver is on
        if what == "lock" and took < p.cap:
            now = start + took
            p.fix_taken(now, None)
        else:
            now = start + p.cap
            assert p.give_up(now)
            iv = p.interval(now, False)
            if iv < interval:  # near: the zone's interval, never backed off
                assert p.due <= now + iv
        assert p.search_from < 0
        iv = p.interval(now, False)
        m = p.gnss_mode(now + 31)  # after any ephemeris hold
        if iv <= 10:
            assert m not in (GNSS_BACKUP, GNSS_OFF)
        assert p.next_fix <= p.due
