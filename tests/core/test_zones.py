# The zone monitor's decisions, fix by fix. Both runtimes.
from tagcore.fix import Fix
from tagcore.geo import project
from tagcore.store import record as R
from tagcore.zones import monitor as Z
from tagcore.zones.geom import sdist_circle
from zonetest import EXCL, INCL, T0, blob, circle, corridor, fx, kinds, monitor, square, udeg, walk


def raises(exc, fn, *args):
    # True if fn(*args) raises exc (no pytest inside MicroPython)
    try:
        fn(*args)
    except exc:
        return True
    return False


# The WGS84 frame (8 coefficients per zone) and the wearer-warning counters cost about 5 KB of
# live heap over the 64 KB default with this module's eight-zone case loaded.
# Then 72 KB; the excursion check and the event vocabulary cost about 1 KB more.
MPY_HEAP = 81920

# Default rules: 3 qualifying fixes (circle of 2 x accuracy inside by 5 m) over >= 30 s confirm;
# hysteresis 10 m; sustained 180 s; after an unexplained jump in 150 s; fast 15 s, slow 60 s;
# location warning 600 s, alert 1200 s.


def test_walk_in_is_confirmed_by_the_third_qualifying_fix_30_s_after_the_first():
    m = monitor(square(1, 100))  # exclusion: 200 m square around the origin
    assert m.wanted_interval(T0) == 60
    got = walk(m, [(0, y) for y in (-300, -140, -120, -103, -95, -80, -60, -40)])
    # -140: the 5 m circle is within the 50 m ring: warning (wearer told once), sample fast.
    assert got[0][0] == T0 + 15 and kinds(got[0][1]) == [Z.A_APPROACH]
    assert m.state(1) == Z.BREACH
    t, alerts = got[1]
    assert kinds(alerts) == [Z.A_BREACH]
    a = alerts[0]
    # -103 overlaps; -95 is 5 m inside, not 2 x 5 m + 5 m: the run starts at -80.
    assert t == T0 + 7 * 15 and a.rule == Z.RULE_CONSECUTIVE and a.zone == 1 and a.zkind == EXCL
    assert [f.t for f in a.evidence] == [T0 + 75, T0 + 90, T0 + 105]
    assert m.wanted_interval(T0) == 15


def test_two_fixes_in_are_not_enough_and_a_fix_out_restarts_the_run():
    m = monitor(square(1, 100))
    got = walk(m, [(0, -50), (0, -50), (0, -300), (0, -50), (0, -50)])
    assert kinds(got[0][1]) == [Z.A_APPROACH] and len(got) == 1
    assert m.state(1) == Z.POSSIBLE


def test_the_run_must_span_confirm_s_even_at_one_fix_a_second():
    m = monitor(square(1, 100))
    got = walk(m, [(0, -50)] * 40, dt=1)
    assert [g[0] - T0 for g in got if g[1][0].kind == Z.A_BREACH] == [30]


def test_a_poor_fix_overlapping_the_zone_is_only_a_possible_breach():
    m = monitor(square(1, 100))
    got = walk(m, [(0, -95)] * 30, acc_m=30)  # centre 5 m in, 30 m circle: never "well inside"
    assert all(Z.A_BREACH not in kinds(a) for _, a in got[:-1])
    assert m.state(1) in (Z.POSSIBLE, Z.BREACH)


def test_sustained_rule_confirms_a_small_zone_under_poor_accuracy():
    m = monitor(circle(4, 20))  # 20 m circle; indoor fixes of 30 m accuracy never fit inside
    got = walk(m, [(0, 5)] * 30, acc_m=30)
    breach = [(t, a[0]) for t, a in got if a[0].kind == Z.A_BREACH]
    assert len(breach) == 1
    t, a = breach[0]
    assert t - T0 == 180 and a.rule == Z.RULE_SUSTAINED
    assert a.evidence[0].t == T0 and a.evidence[-1].t == t and len(a.evidence) == 3


def test_a_multipath_jump_in_must_outlast_jump_s():
    # Standing still 30 m outside (Doppler speed ~0); the position jumps 70 m into the zone.
    m = monitor(square(1, 100))
    still = dict(speed=0.1, course=0)
    for k in range(4):
        m.on_fix(T0 + 15 * k, fx(T0 + 15 * k, 0, -130, **still))
    got = []
    for k in range(4, 30):  # 60 s would confirm a walk-in twice over; a jump needs 150 s
        t = T0 + 15 * k
        got += [(a.kind, t - T0 - 60) for a in m.on_fix(t, fx(t, 0, -60, **still))]
    assert (Z.A_BREACH, 150) in got and m.counts["jumps"] == 1
    assert [k for k, _ in got].count(Z.A_BREACH) == 1


def test_a_walk_in_that_the_velocity_explains_is_not_a_jump():
    m = monitor(square(1, 100))
    got = walk_v(m, [(0, -160 + 21 * k) for k in range(12)], speed=1.4, course=0)
    # Qualifying from -76 m (t = 60): confirmed 30 s later.
    assert [t - T0 for t, a in got if a[0].kind == Z.A_BREACH] == [90]
    assert "jumps" not in m.counts


def test_the_end_of_an_outward_jump_is_not_a_jump_in():
    # Walking in, one fix thrown 50 m back out by multipath: the next one agrees with the fix
    # before the outlier, so the entry is still confirmed at walking pace.
    m = monitor(square(1, 100))
    ys = [-160 + 21 * k for k in range(12)]
    ys[5] -= 50
    got = walk_v(m, [(0, y) for y in ys], speed=1.4, course=0)
    # The outlier (t = 75) breaks the run; it restarts at t = 90: confirmed at 120, not 240.
    assert [t - T0 for t, a in got if a[0].kind == Z.A_BREACH] == [120]
    assert "jumps" not in m.counts


def walk_v(m, pts, speed, course, t=T0, dt=15):
    got = []
    for x, y in pts:
        a = m.on_fix(t, fx(t, x, y, speed=speed, course=course))
        if a:
            got.append((t, a))
        t += dt
    return got


def test_exit_needs_three_clear_fixes_outside_by_the_hysteresis():
    m = monitor(square(1, 100))
    walk(m, [(0, 0)] * 4)
    assert m.state(1) == Z.BREACH
    t = T0 + 100
    # At the edge and just outside within the hysteresis: still in breach.
    got = walk(m, [(0, -98), (0, -110), (0, -112), (0, -140), (0, -150)], t=t)
    assert got == [] and m.state(1) == Z.BREACH
    got = walk(m, [(0, -200), (0, -200)], t=t + 75)
    assert len(got) == 1
    a = got[0][1][0]
    assert a.kind == Z.A_BREACH_END and a.rule == Z.END_LEFT
    assert [f.t for f in a.evidence] == [t + 45, t + 60, t + 75]
    assert m.state(1) == Z.CLEAR


def test_inclusion_zone_only_during_its_windows():
    # Curfew 19:00-07:00 UTC on the night of T0 (T0 is midnight).
    win = [(T0 - 5 * 3600, T0 + 7 * 3600)]
    m = monitor(square(2, 50, kind=INCL, windows=win))
    t0 = T0 - 6 * 3600  # 18:00, out and about: no curfew
    assert walk(m, [(0, 2000)] * 5, t=t0) == []
    got = walk(m, [(0, 2000)] * 5, t=T0 - 5 * 3600)  # 19:00 on the dot: outside, curfew on
    first = [t for t, a in got if a[0].kind == Z.A_BREACH]
    assert first == [T0 - 5 * 3600 + 30]
    got = walk(m, [(0, 0)] * 4, t=T0)  # home
    assert [a[0].kind for _, a in got] == [Z.A_BREACH_END]
    # Out again before 07:00 and still out when the window closes at 07:00:00.
    walk(m, [(0, 2000)] * 4, t=T0 + 6 * 3600 + 3500)
    assert m.state(2) == Z.BREACH
    got = walk(m, [(0, 2000)], t=T0 + 7 * 3600)
    assert got[0][1][0].kind == Z.A_BREACH_END and got[0][1][0].rule == Z.END_INACTIVE
    assert m.state(2) == Z.CLEAR


def test_window_edges_to_the_second():
    win = [(T0 + 100, T0 + 200)]
    for t, want in ((T0 + 99, Z.CLEAR), (T0 + 100, Z.POSSIBLE), (T0 + 199, Z.POSSIBLE)):
        m = monitor(square(2, 50, kind=INCL, windows=win))
        m.on_fix(t, fx(t, 0, 1000))
        assert m.state(2) == want, (t, m.state(2))
    m = monitor(square(2, 50, kind=INCL, windows=win))
    m.on_fix(T0 + 199, fx(T0 + 199, 0, 1000))
    m.on_fix(T0 + 200, fx(T0 + 200, 0, 1000))
    assert m.state(2) == Z.CLEAR


def test_corridor_inclusion():
    m = monitor(corridor(3, [(0, 0), (1000, 0), (1000, 1000)], 25))
    assert walk(m, [(x, 0) for x in range(0, 1000, 20)]) == []
    got = walk(m, [(500, 80)] * 3, t=T0 + 2000)  # 80 m off the route
    assert kinds(got[-1][1]) == [Z.A_BREACH]


def test_approach_warning_is_rate_limited():
    m = monitor(square(1, 100, warn_m=50))
    got = walk(m, [(0, -130), (0, -400), (0, -130), (0, -400)] * 3, dt=60)
    assert [t - T0 for t, a in got] == [0, 600]


def test_overlapping_zones_decide_independently():
    m = monitor(square(1, 100), circle(5, 30), square(6, 100, kind=INCL))
    got = walk(m, [(0, 0)] * 3)
    assert sorted(a.zone for _, al in got for a in al if a.kind == Z.A_BREACH) == [1, 5]
    assert m.state(6) == Z.CLEAR


def test_far_fixes_skip_the_geometry():
    recs = [square(10 + k, 50, lat0=51500000 + k * 20000) for k in range(8)]
    m = monitor(*recs)
    walk(m, [(5000, 0)] * 10)  # 5 km east of all of them
    assert m.counts.get("exact", 0) == 0
    walk(m, [(0, 0)] * 2, t=T0 + 1000)
    assert m.counts["exact"] == 2  # only the zone it stands in


def test_depth_projects_as_the_frame_does():
    # depth() inlines tagcore.geo.project and must match it exactly, 20 m outside a 19 km circle
    # at 79 degrees and near the diagonals, where the cubic terms are largest (a stale shift
    # dropped one: issue 13.7). The 3-4-5 directions need no trigonometry.
    dirs = ((5, 0), (0, 5), (-5, 0), (0, -5), (4, 3), (-4, 3), (4, -3), (-4, -3))
    dirs += ((3, 4), (-3, 4), (3, -4), (-3, -4))
    for lat0 in (0, 51500000, 79000000, -79000000):
        z = monitor(circle(1, 19000, lat0=lat0)).zones[0]
        for dx, dy in dirs:
            lat, lon = udeg(dx * 3804, dy * 3804, lat0, z.lon0)
            assert -z.cap < Z.depth(z, lat, lon) < 0
            x, y = project(z.fr, lat - lat0, lon - z.lon0)
            assert Z.depth(z, lat, lon) == -sdist_circle(x, y, z.r_dm, z.cap), (lat0, dx, dy)


def test_location_loss_warns_then_alerts_then_reports_the_return():
    m = monitor(square(1, 100))
    m.on_fix(T0, fx(T0, 0, -500))
    got = []
    for k in range(1, 100):
        got += [(a.kind, a.t - T0, a.secs) for a in m.on_no_fix(T0 + 15 * k)]
    assert got == [(Z.A_LOC_WARN, 600, 600), (Z.A_LOC_LOST, 1200, 1200)]
    back = m.on_fix(T0 + 1500, fx(T0 + 1500, 0, -500))
    assert kinds(back) == [Z.A_LOC_BACK] and back[0].secs == 1485
    assert m.on_no_fix(T0 + 1515) == ()


def test_sleeping_with_the_receiver_off_is_not_loss_of_location():
    m = monitor(square(1, 100))
    m.on_fix(T0, fx(T0, 0, -500))
    got = []
    for k in range(1, 50):  # a no-fix attempt every 10 minutes: the tag slept in between
        got += m.on_no_fix(T0 + 600 * k)
    assert got == [] and m.nofix_s == 0


def test_bad_fixes_are_counted_not_used():
    m = monitor(square(1, 100))
    m.on_fix(T0, fx(T0, 0, 0, acc_m=150))
    m.on_fix(T0 + 10, fx(T0 + 10, 0, 0))
    m.on_fix(T0 + 10, fx(T0 + 5, 0, 0))
    m.on_fix(T0 + 10, fx(T0 + 10, 0, 0))
    assert m.counts["poor_accuracy"] == 1 and m.counts["time_backwards"] == 1
    assert m.counts["duplicate_time"] == 1
    m.on_fix(T0 + 20, Fix(T0 + 20, 0, 51500000, None, 0, 0, 0, 50, 100, 8, 1, 3, 0))
    m.on_fix(T0 + 21, Fix(T0 + 21, 0, 91000000, 0, 0, 0, 0, 50, 100, 8, 1, 3, 0))
    m.on_fix(T0 + 22, Fix(T0 + 22, 0, 51500000, 0, 0, 0, 0, -5, 100, 8, 1, 3, 0))
    assert m.counts["bad_position"] == 3


def test_a_bad_blob_keeps_the_old_config():
    m = monitor(square(1, 100))
    walk(m, [(0, 0)] * 3)
    assert m.state(1) == Z.BREACH
    assert m.load(b"OTZC garbage") == "short_header"
    assert m.state(1) == Z.BREACH and m.counts["config_short_header"] == 1
    bad = blob(square(9, 100))
    bad[130] ^= 1
    assert m.load(bad) == "bad_crc"
    # A good new config replaces the zones; the open breach is closed as a reload.
    assert m.load(blob(square(9, 100))) is None
    got = m.on_fix(T0 + 100, fx(T0 + 100, 0, 1000))
    assert [(a.kind, a.zone, a.rule) for a in got] == [(Z.A_BREACH_END, 1, Z.END_RELOAD)]
    assert m.state(1) is None and m.state(9) == Z.CLEAR


def test_a_renewed_config_keeps_a_breach_in_progress():
    m = monitor(square(1, 100), circle(2, 30, lat0=51600000))
    walk(m, [(0, 0)] * 3)
    assert m.state(1) == Z.BREACH
    # The server renews the schedule horizon: same zones, new blob, zone 2 dropped.
    assert m.load(blob(square(1, 100), valid_until=T0 + 60 * 86400)) is None
    assert m.state(1) == Z.BREACH and m.wanted_interval(T0) == 15
    got = walk(m, [(0, 0), (0, -300), (0, -300), (0, -300)], t=T0 + 100)
    assert [(a.kind, a.rule) for _, al in got for a in al] == [(Z.A_BREACH_END, Z.END_LEFT)]


def test_config_expiry_is_reported_once():
    m = monitor(square(1, 100), valid_until=T0 + 100)
    assert m.on_fix(T0, fx(T0, 0, 5000)) == ()
    assert kinds(m.on_fix(T0 + 100, fx(T0 + 100, 0, 5000))) == [Z.A_CONFIG_EXPIRED]
    assert m.on_fix(T0 + 200, fx(T0 + 200, 0, 5000)) == ()


def test_alerts_encode_to_store_events_and_back():
    from tagcore import events as E  # here: the codec's heap only for this test

    m = monitor(square(1, 100))
    alerts = [a for _, al in walk(m, [(0, y) for y in range(-300, 0, 20)]) for a in al]
    m.on_fix(T0 + 1000, fx(T0 + 1000, 0, 0))
    for k in range(1, 90):
        alerts += m.on_no_fix(T0 + 1000 + 15 * k)
    alerts += m.on_fix(T0 + 3000, fx(T0 + 3000, 3, 4))
    stored = 0
    for a in alerts:
        if a.kind in (Z.A_APPROACH, Z.A_LOC_WARN):
            assert a.kind not in Z.STORED_ALERTS and raises(ValueError, E.encode, a)
            continue
        kind, data = E.encode(a)
        assert kind == (R.EV_ZONE if a.kind == Z.A_BREACH else R.EV_LOC_LOST)
        # Through a real store frame: the event comes back as it went in.
        fr = R.frame(kind, 7, R.event_payload(a.t, data))
        [(_seq, k2, (t, d2))] = R.frame_records(fr, 0, R.check_frame(fr, 0, len(fr)))
        assert E.decode(k2, t, d2) == a
        stored += 1
    assert stored == 3
    assert raises(ValueError, E.decode, R.EV_ZONE, 0, b"\x01\x05")
    assert raises(ValueError, E.decode, R.EV_ZONE, 0, b"")
