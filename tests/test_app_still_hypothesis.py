"""The still-wearer rate's promises for any run of fixes (hypothesis): the planner slows only
after STILL_AFTER_S of good, slow fixes within twice their accuracy of the spell's first;
the first fix that is poor, fast or moved brings the normal rate back at once; and it never
slows while the zone core samples fast, a zone window changes soon, the proximity core is
urgent or an integrity alarm runs."""

from __future__ import annotations

import hypothesis
from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.app.app import ALARM_S, Planner
from tagcore.app.config import TagConfig
from tagcore.fix import Fix
from tagcore.geo import dist_dm
from tagcore.gnss import profile, rate
from tagsim import boards

RX = profile.receiver(boards.load("tbeam_v12_axp2101").raw)
T0 = 800000000
LAT0, LON0 = 51500000, -120000


class Zones:
    def __init__(self) -> None:
        self.iv = 60
        self.changes_at = [1 << 30]

    def wanted_interval(self, now: int) -> int:
        return self.iv

    def nearest_dm(self, lat: int, lon: int) -> None:
        return None  # no exclusion zone


class Prox:
    def __init__(self) -> None:
        self.u = False
        self.tracks: dict = {}

    def urgent(self) -> bool:
        return self.u


# Segments: n fixes of a still wearer (offsets within 2 m, good accuracy, slow), then one fix
# of any kind, so spells reach STILL_AFTER_S often and each exclusion, poor, fast or moved fix
# meets a wearer the rule would otherwise slow.
quiet = st.tuples(
    st.integers(-20, 20), st.sampled_from([30, 80, 150]), st.sampled_from([None, 0, 20, 50])
)
event = st.tuples(
    st.integers(-400, 400),  # dm north of the origin
    st.sampled_from([30, 80, 150, 300, None, 301, 600]),  # accuracy, dm
    st.sampled_from([None, 0, 20, 50, 51, 140]),  # speed, cm/s
    st.sampled_from(["", "", "", "zone", "window", "urgent", "alarm"]),
)
segment = st.tuples(st.lists(quiet, max_size=16), event)


@settings(max_examples=400, deadline=None)
@given(segments=st.lists(segment, min_size=1, max_size=8), still_s=st.sampled_from([90, 120, 150]))
def test_the_still_rate_keeps_its_promises(segments: list, still_s: int) -> None:
    z, px = Zones(), Prox()
    p = Planner(TagConfig(gnss_plan=1, guard_kmh=0, still_fix_s=still_s), T0, z, px, RX)
    anchor: tuple[int, int, int] | None = None
    since = 0
    steps = []
    for qs, ev in segments:
        steps += [(*q, "") for q in qs]
        steps.append(ev)
    slowed = 0  # fixes followed by the still rate (reported as a hypothesis event)
    alarm_end = 0
    for dy, acc, v, ex in steps:
        t = p.next_fix
        assert p.search_due(t)
        t += 5
        f = Fix(t, 0, LAT0 + dy, LON0, 100, v, None, acc, 100, 8, 1, 3, 0)
        z.iv = 15 if ex == "zone" else 60
        z.changes_at = [t + 300] if ex == "window" else [1 << 30]
        px.u = ex == "urgent"
        if ex == "alarm":
            p.alarm(t - 1)
            alarm_end = t - 1 + ALARM_S
        p.fix_taken(t, f)
        # the model of the rule, written out independently
        good = acc is not None and 0 < acc <= rate.STILL_ACC_DM
        slow = v is None or v <= rate.STILL_CMS
        if not (good and slow):
            anchor = None
        elif anchor is None or dist_dm(anchor[0], anchor[1], f.lat, f.lon) > 2 * (anchor[2] + acc):
            anchor, since = (f.lat, f.lon, acc), t
        iv = p.interval(t)
        if ex or t < alarm_end or anchor is None or t - since < rate.STILL_AFTER_S:
            assert iv <= 60, (ex, anchor, t - since, iv)
        else:
            assert iv == still_s
            slowed += 1
        if anchor is None or since == t:  # poor, fast or moved: the next fix a minute on
            assert iv <= 60
    hypothesis.event(f"slowed {min(slowed, 3)}+")  # hypothesis' statistics: the rule was reached
