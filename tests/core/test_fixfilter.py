# The fix filter: every rejection has a reason and is counted. Both runtimes.
from tagcore.fix import Fix
from tagcore.gnss.fixfilter import FixFilter

T = 848000000  # 2026-11-16


def fx(t, lat=51500000, lon=-120000, acc=50, q=1, ms=0):
    return Fix(t, ms, lat, lon, 100, 0, 0, acc, 90, 8, q, 3, 0)


def test_accepts_a_clean_track():
    ff = FixFilter()
    for i in range(10):
        assert ff.check(fx(T + i, lat=51500000 + i * 10))  # ~1.1 m/s
    assert ff.accepted == 10 and ff.counts == {}


def test_each_rejection_reason_is_counted():
    ff = FixFilter(max_acc_dm=300)
    assert not ff.check(fx(T, q=0))
    assert not ff.check(Fix(T, 0, None, None, None, None, None, None, None, 0, 0, 0, 0))
    assert not ff.check(fx(T, q=6))
    assert not ff.check(fx(T, q=7))
    assert not ff.check(fx(T, q=8))
    assert not ff.check(fx(T, lat=0, lon=0))
    assert not ff.check(fx(T, acc=None))
    assert not ff.check(fx(T, acc=301))
    assert ff.check(fx(T, acc=300))
    assert not ff.check(fx(T))
    assert not ff.check(fx(T - 1))
    assert ff.check(fx(T, ms=100))
    assert ff.counts == {
        "no_fix": 2,
        "estimated": 1,
        "manual": 1,
        "simulated": 1,
        "zero_position": 1,
        "no_accuracy": 1,
        "poor_accuracy": 1,
        "duplicate_time": 1,
        "time_backwards": 1,
    }


def test_accuracy_can_be_optional():
    ff = FixFilter(require_accuracy=False)
    assert ff.check(fx(T, acc=None))


def test_implausible_jump_is_rejected_then_the_track_goes_on():
    ff = FixFilter(max_speed_cms=5000)  # 50 m/s
    assert ff.check(fx(T))
    assert not ff.check(fx(T + 1, lat=51500000 + 9000))  # 1 km in 1 s
    assert ff.check(fx(T + 2, lat=51500000 + 50))
    assert ff.counts == {"jump": 1}


def test_the_jump_allowance_grows_with_time_and_accuracy():
    ff = FixFilter(max_speed_cms=1000)  # 10 m/s
    assert ff.check(fx(T, acc=0))
    # 500 m (4497 udeg) in 60 s at 10 m/s is 600 m of reach: fine.
    assert ff.check(fx(T + 60, lat=51500000 + 4497, acc=0))
    # 150 m in 10 s is too far at 10 m/s, unless the fixes' own accuracy covers the gap.
    assert not ff.check(fx(T + 70, lat=51504497 + 1349, acc=0))
    assert ff.check(fx(T + 71, lat=51504497 + 1349, acc=500))  # 110 m + 50 m of reach


def test_a_bad_anchor_is_replaced_by_consistent_new_fixes():
    ff = FixFilter(max_speed_cms=5000, reanchor=3)
    assert ff.check(fx(T, lat=52500000))  # a wild first fix, 111 km off
    got = [ff.check(fx(T + i, lat=51500000 + i)) for i in range(1, 6)]
    assert got == [False, False, True, True, True]
    assert ff.counts == {"jump": 2, "reanchored": 1}


def test_one_fix_from_the_future_does_not_refuse_the_rest_of_the_track():
    # A receiver's bad date (or two sessions spliced together) puts one accepted fix ahead of
    # everything that follows. Consistent fixes after it prove it was the outlier, as for jumps.
    for ahead in (9, 61, 3600, 86400, 400 * 86400, 7168 * 86400):
        ff = FixFilter(reanchor=3)
        assert ff.check(fx(T))
        assert ff.check(fx(T + ahead))  # plausible in space: far enough in time
        got = [ff.check(fx(T + i, lat=51500000 + i * 10)) for i in range(1, 8)]
        assert got == [False, False, True, True, True, True, True], (ahead, got)
        assert ff.counts == {"time_backwards": 2, "reanchored": 1}, ahead
        assert ff.last.t == T + 7


def test_backward_fixes_that_disagree_never_reanchor():
    ff = FixFilter(reanchor=3)
    assert ff.check(fx(T + 1000))
    # Older fixes, but each one before the last or far from it: no consistent run.
    for i, t in enumerate((T + 10, T + 5, T + 20, T + 15, T + 30, T + 25)):
        assert not ff.check(fx(t, lat=51500000 + (i % 2) * 900000)), t
    assert ff.counts == {"time_backwards": 6}
    assert ff.check(fx(T + 1001))  # the anchor still holds
