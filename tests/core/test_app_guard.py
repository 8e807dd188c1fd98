# The drive-through guard's arithmetic (tagcore.app.guard), on both runtimes. Expected values
# are worked by hand from s = v t + a t^2 / 2 (capped at vmax): integers, cm and dm.
from tagcore.app.guard import guard_interval, reach_dm

A = 250  # 2.5 m/s2
VMAX = 3611  # 130 km/h in cm/s


def test_reach_while_accelerating_from_rest():
    # 0.5 x 2.5 m/s2 x (10 s)^2 = 125 m
    assert reach_dm(0, A, VMAX, 10) == 1250


def test_reach_at_top_speed_is_linear():
    # 36.11 m/s x 60 s = 2166.6 m
    assert reach_dm(VMAX, A, VMAX, 60) == 21666


def test_reach_accelerates_then_cruises():
    # 10 m/s, +2.5 m/s2 up to 36.11 m/s: 10 whole seconds accelerating (to 35 m/s) cover
    # 10 x 10 + 1.25 x 100 = 225 m, then 36.11 m/s for 10 s: 361.1 m; 586.1 m in all
    assert reach_dm(1000, A, VMAX, 20) == 5861


def test_guard_interval_is_the_last_safe_second():
    # From rest, 1 km away, 5 s to a fix: reach(t + 5) < 1000 m. At 30 s: 35 s of motion,
    # 14 s accelerating (175 + ... ) -- checked against reach itself on both sides
    g = guard_interval(10000, 0, A, VMAX, 5, 60)
    assert 0 < g < 60
    assert reach_dm(0, A, VMAX, g + 5) < 10000 <= reach_dm(0, A, VMAX, g + 6)


def test_guard_interval_caps_and_floors():
    assert guard_interval(10**7, 0, A, VMAX, 5, 60) == 60  # far away: the normal interval
    assert guard_interval(100, VMAX, A, VMAX, 5, 60) == 0  # 10 m away at speed: stay on
