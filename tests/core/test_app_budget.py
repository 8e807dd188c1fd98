# The battery budget (tagcore.app.budget): the level that meets the target, the stated order of
# degradation, hysteresis, warnings in time to charge. Both runtimes.
from gnsstest import COSTS, M8
from tagcore.app.app import Planner
from tagcore.app.budget import CH_CRITICAL, CH_LEVEL, CH_LOW, CRITICAL_MIN, LEVELS, Budget
from tagcore.app.config import TagConfig

T0 = 800000000
MPY_HEAP = 196608


def _b(target_h, **kw):
    return Budget(TagConfig(gnss_plan=1, power_target_h=target_h, **kw), COSTS, M8, T0)


def test_degradation_goes_in_the_stated_order_and_each_level_costs_less():
    b = _b(0)
    draws = [b.draw_ua(T0, i) for i in range(len(LEVELS))]
    assert draws == sorted(draws, reverse=True) and draws[0] > draws[-1] * 2
    for i in range(1, len(LEVELS)):  # each level keeps what the ones before it took
        a, c = LEVELS[i - 1], LEVELS[i]
        assert c[0] >= a[0] and c[1] >= a[1] and c[2] >= a[2]
    assert LEVELS[1][0] == LEVELS[2][0] == 1  # uploads and scans go before the trail does


def test_the_first_level_that_meets_the_target_is_chosen():
    # level 0 draws ~11.7 mA (the MCU light-sleeps while the receiver is in backup): 3,000 mAh
    # last about 257 h; level 1 about 273 h
    assert _b(200).update(T0, 100) == 0
    b = _b(270)
    assert b.update(T0, 100) == CH_LEVEL and b.level == 1 and b.left_min >= 270 * 60
    b = _b(2000)  # nothing meets it: the last level, and it says how long it will be
    assert b.update(T0, 100) & CH_LEVEL and b.level == len(LEVELS) - 1
    assert b.left_min < 2000 * 60


def test_a_cheaper_level_is_taken_back_only_with_ten_percent_to_spare():
    b = _b(270)
    b.update(T0, 100)
    assert b.level == 1
    # 10 h later, 96 %: level 0 would last about 247 h against 286 h needed (260 h + 10 %)
    b.update(T0 + 36000, 96)
    assert b.level == 1
    b = _b(270)
    b.update(T0, 100)
    b.cfg.power_target_h = 150  # the next charging window moved closer
    assert b.update(T0 + 60, 100) == CH_LEVEL and b.level == 0


def test_low_and_critical_warnings_come_once_each_in_time_and_reset_after_charging():
    # The cell drains at the model's level-0 draw. The gauge reads whole percent (2.7 h each
    # here); between readings the tag is woken at next_check, as the app does.
    b = _b(0)
    ua = b.draw_ua(T0, 0)
    cap = COSTS.capacity_uah
    empty = T0 + cap * 3600 // ua

    def pct(t):
        return (cap - ua * (t - T0) // 3600) * 100 // cap

    t = T0
    b.update(t, 100)
    got = []
    while t < empty:
        p = pct(t)
        step = t + 1
        while step < empty and pct(step) == p:  # the next reading (coarse search is enough)
            step += 60
        t = min(step, b.next_check(t), empty)
        ch = b.update(t, pct(t)) if t == step else b.check(t)
        if ch & (CH_LOW | CH_CRITICAL):
            got.append((ch, (empty - t) // 60))
    assert [c for c, _ in got] == [CH_LOW, CH_CRITICAL]
    (_, low), (_, crit) = got
    assert 200 <= low <= 250 and CRITICAL_MIN - 10 <= crit <= CRITICAL_MIN + 5  # floor: 30
    assert b.update(t + 60, 30) == 0 and b.warned == 0  # charged: a new discharge, no warning


def test_the_budget_never_slows_the_zone_checks():
    class Near:
        def wanted_interval(self, now):
            return 15

    p = Planner(TagConfig(gnss_plan=1, guard_kmh=0), T0, zones=Near(), rx=M8)
    p.slow, p.up_x, p.scan_x = LEVELS[-1]
    assert p.interval(T0) == 15  # the zone core's 15 s rules near a zone
    p = Planner(TagConfig(gnss_plan=1, guard_kmh=0), T0, rx=M8)
    p.slow = LEVELS[-1][0]
    assert p.interval(T0) == 300  # far from every zone: the baseline slows
