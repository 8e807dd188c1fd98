# The still-wearer rate (tagcore.gnss.rate.Still, the planner's cfg.still_fix_s, model plan):
# a wearer still far from every zone gets one fix every still_fix_s; each exclusion keeps the
# normal rate; the first fix that moved restores it; a walk-in after a still spell is still
# confirmed within the walk-in target. Both runtimes.
from gnsstest import M8
from tagcore.app.app import ALARM_FIX_S, URGENT_FIX_S, Planner
from tagcore.app.config import TagConfig
from tagcore.gnss.rate import STILL_AFTER_S, STILL_FAR_DM, STILL_MARGIN_S
from tagcore.zones import monitor as Z
from zonetest import INCL, T0, circle, fx, monitor, square

MPY_HEAP = 196608  # app.py imports the store and the NMEA reader with it
LEAD = 10  # each search's fix comes this long after the receiver goes on
STILL = TagConfig().still_fix_s  # the default: 90 s
FAR_Y = -5000.0  # 5 km south of the origin: far from a zone there at walking speed


def _cfg(**kw):
    kw.setdefault("gnss_plan", 1)
    kw.setdefault("guard_kmh", 0)
    return TagConfig(**kw)


def _run(p, pos, until, zones=None, t=T0, acc_m=5):
    """Drive the planner as the app does (the cores see the fix first). pos(t) -> (x, y, speed):
    metres, m/s. Returns [(fix time, interval after it)] and the zone alerts [(t, kind)]."""
    out, alerts = [], []
    while t < until:
        t = max(t, p.next_fix)
        assert p.search_due(t)
        t += LEAD
        x, y, v = pos(t)
        f = fx(t, x, y, acc_m, speed=v)
        if zones is not None:
            for a in zones.on_fix(t, f):
                alerts.append((t, a.kind))
        p.fix_taken(t, f)
        out.append((t, p.interval(t)))
    return out, alerts


def _at(y):
    return lambda t: (0.0, y, 0.0)


def _ivs(run, t0, t1):
    return [iv for t, iv in run if t0 <= t < t1]


def test_a_still_wearer_far_from_every_zone_gets_the_still_rate_after_the_spell():
    p = Planner(_cfg(), T0, rx=M8)
    run, _ = _run(p, _at(0.0), T0 + 3600)
    assert set(_ivs(run, T0, T0 + STILL_AFTER_S)) == {60}  # not yet still for long enough
    assert set(_ivs(run, T0 + STILL_AFTER_S + 70, T0 + 3600)) == {STILL}
    gaps = [run[i + 1][0] - run[i][0] for i in range(len(run) - 6, len(run) - 1)]
    assert min(gaps) >= STILL - 30 and max(gaps) <= STILL + 30  # the fixes really are slower


def test_off_by_configuration_and_in_the_fixed_plan():
    for cfg in (_cfg(still_fix_s=0), TagConfig(gnss_plan=0, guard_kmh=0)):
        p = Planner(cfg, T0, rx=M8)
        run, _ = _run(p, _at(0.0), T0 + 1800)
        assert set(iv for _, iv in run) == {60}


def test_the_first_fix_that_moved_restores_the_normal_rate():
    p = Planner(_cfg(), T0, rx=M8)
    run, _ = _run(p, _at(0.0), T0 + 1800)
    assert run[-1][1] == STILL
    # 100 m away with 5 m accuracy: moved, whatever its speed says
    for pos in ((0.0, 100.0, 0.0), (0.0, 0.0, 1.0)):  # moved; or here but at 1 m/s
        q = Planner(_cfg(), T0, rx=M8)
        _run(q, _at(0.0), T0 + 1800)
        t = q.next_fix
        q.search_due(t)
        q.fix_taken(t + LEAD, fx(t + LEAD, pos[0], pos[1], speed=pos[2]))
        assert q.interval(t + LEAD) == 60
        assert q.due == t + LEAD + 60  # the very next fix is on the normal rate
    # a drift within the fixes' accuracy is not a move
    q = Planner(_cfg(), T0, rx=M8)
    _run(q, lambda t: (0.0, 8.0 * ((t // 60) % 2), 0.0), T0 + 1800)
    assert q.interval(q.fix_at) == STILL


def test_a_poor_fix_keeps_the_normal_rate():
    for acc_m in (31, 100):
        p = Planner(_cfg(), T0, rx=M8)
        run, _ = _run(p, _at(0.0), T0 + 1800, acc_m=acc_m)
        assert set(iv for _, iv in run) == {60}
    p = Planner(_cfg(), T0, rx=M8)
    _run(p, _at(0.0), T0 + 1800)
    t = p.next_fix
    p.search_due(t)
    p.fix_taken(t + LEAD, fx(t + LEAD, 0, 0, acc_m=40))  # one poor fix ends the spell
    assert p.interval(t + LEAD) == 60
    p.search_due(p.next_fix)  # and a search given up says nothing either
    p.give_up(p.search_from + p.cap)
    assert p.interval(p.search_from + p.cap + 1) == 60


def test_near_an_exclusion_zone_the_zone_core_and_the_distance_win():
    # 40 m from the zone: the zone core's near rate
    m = monitor(square(1, 100))
    p = Planner(_cfg(), T0, zones=m, rx=M8)
    run, _ = _run(p, _at(-140.0), T0 + 1800, zones=m)
    assert set(iv for _, iv in run) == {15}
    # clear of the zone core's ring but nearer than STILL_FAR_DM (guard off): normal rate
    m = monitor(square(1, 100))
    p = Planner(_cfg(), T0, zones=m, rx=M8)
    run, _ = _run(p, _at(-100.0 - STILL_FAR_DM / 10 + 50), T0 + 1800, zones=m)
    assert set(iv for _, iv in run) == {60}
    # beyond it: the still rate
    m = monitor(square(1, 100))
    p = Planner(_cfg(), T0, zones=m, rx=M8)
    run, _ = _run(p, _at(-100.0 - STILL_FAR_DM / 10 - 50), T0 + 1800, zones=m)
    assert run[-1][1] == STILL


def test_with_the_drive_through_guard_it_decides_the_distance():
    # 130 km/h from rest reaches about 4.2 km in 125 s: 3 km away the guard shortens the
    # still rate, 10 km away it does not
    for y, want in ((-3100.0, (60, STILL)), (-10100.0, (STILL, STILL + 1))):
        m = monitor(square(1, 100))
        p = Planner(_cfg(guard_kmh=130), T0, zones=m, rx=M8)
        run, _ = _run(p, _at(y), T0 + 1800, zones=m)
        assert want[0] <= run[-1][1] < want[1], (y, run[-1])


def test_no_slowing_before_a_curfew_window_opens_or_closes():
    start = T0 + 3600
    for win in ((start, start + 8 * 3600), (T0 - 3600, start)):
        m = monitor(circle(2, 60, kind=INCL, warn_m=10, windows=[win]))
        p = Planner(_cfg(), T0, zones=m, rx=M8)
        run, _ = _run(p, _at(0.0), start + 1200, zones=m)
        before = _ivs(run, T0 + STILL_AFTER_S + 70, start - STILL_MARGIN_S - STILL)
        assert before and set(before) == {STILL}, win
        assert set(_ivs(run, start - STILL_MARGIN_S, start)) == {60}, win
        assert not m.hot


def test_near_the_victim_or_while_a_beacon_is_heard_the_normal_rate():
    class Prox:
        def __init__(self, urgent, heard):
            self.u = urgent
            self.tracks = {1: Track(1 if heard else 0)}

        def urgent(self):
            return self.u

    class Track:
        def __init__(self, state):
            self.state = state

    cases = ((True, True, URGENT_FIX_S), (False, True, 60), (False, False, STILL))
    for urgent, heard, want in cases:
        p = Planner(_cfg(), T0, proximity=Prox(urgent, heard), rx=M8)
        run, _ = _run(p, _at(0.0), T0 + 1800)
        assert run[-1][1] == want, (urgent, heard)
    # the victim's last position 1 km away: an encounter could start within the margin
    p = Planner(_cfg(), T0, proximity=Prox(False, False), rx=M8)
    p.victim_seen(T0, *fx(T0, 0, 1000)[2:4], 100)
    run, _ = _run(p, _at(0.0), T0 + 1800)
    assert set(iv for _, iv in run) == {60}


def test_during_an_integrity_alert_the_normal_rate_or_faster():
    p = Planner(_cfg(), T0, rx=M8)
    _run(p, _at(0.0), T0 + 1800)
    p.alarm(p.fix_at)
    assert p.interval(p.fix_at) == ALARM_FIX_S
    p = Planner(_cfg(), T0, rx=M8)
    _run(p, _at(0.0), T0 + 1800)
    p.episode = True  # the app's integrity checks hold an episode open
    assert p.interval(p.fix_at) == 60


def test_a_walk_in_after_a_still_spell_is_confirmed_within_the_walk_in_target():
    # Still 40 min at the nearest spot the rule allows (guard off), then a walk at 1.4 m/s
    # straight into a 200 m exclusion square, starting at several phases of the still cycle.
    lat = []
    fired = 0
    y0 = -100.0 - STILL_FAR_DM / 10 - 20
    for k in range(8):
        leave = T0 + 2400 + k * 17

        def pos(t, leave=leave):
            w = (t - leave) * 1.4 if t > leave else 0.0
            y = min(y0 + w, 0.0)
            return 0.0, y, 1.4 if 0 < w and y < 0 else 0.0

        m = monitor(square(1, 100))
        p = Planner(_cfg(), T0, zones=m, rx=M8)
        cross = leave + (-100.0 - y0) / 1.4
        run, alerts = _run(p, pos, int(cross) + 600, zones=m)
        fired += STILL in _ivs(run, T0, leave)
        breach = [t for t, kind in alerts if kind == Z.A_BREACH]
        assert breach, k
        lat.append(breach[0] - cross)
    assert fired == 8  # the still rate was on when the walk began
    lat.sort()
    assert 0 < lat[0] and lat[-1] <= 90, lat  # bench_zones' walk-in p95 target, here the worst
