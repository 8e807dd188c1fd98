# The fix-rate policy. Both runtimes.
from tagcore.gnss.rate import (
    BASE_S,
    FAR_DM,
    NEAR_S,
    STILL_AFTER_S,
    STILL_FIX_S,
    TRAIL_S,
    fix_interval,
)


def test_near_a_zone_or_the_victim_is_15_s_whatever_else_holds():
    for still in (0, STILL_AFTER_S, 10 * STILL_AFTER_S):
        for sensor in (False, True):
            assert fix_interval(True, False, still, 0, sensor) == (15, 0, "near_zone")
            assert fix_interval(False, True, still, -1, sensor) == (15, 0, "near_victim")
            assert fix_interval(True, True, still, FAR_DM * 9, sensor)[0] == NEAR_S


def test_the_one_minute_trail_holds_in_every_case():
    for zn in (False, True):
        for vn in (False, True):
            for still in (0, 599, 600, 86400):
                for d in (-1, 0, FAR_DM - 1, FAR_DM, 10 * FAR_DM):
                    for sensor in (False, True):
                        fix_s, trail_s, _ = fix_interval(zn, vn, still, d, sensor)
                        # a GNSS fix every minute, or a still record every minute between fixes
                        assert fix_s <= BASE_S or (trail_s == TRAIL_S and trail_s <= BASE_S)
                        assert fix_s <= STILL_FIX_S


def test_still_and_far_with_a_motion_sensor_slows_to_5_min():
    assert fix_interval(False, False, STILL_AFTER_S, FAR_DM, True) == (300, 60, "still")
    assert fix_interval(False, False, STILL_AFTER_S, -1, True) == (300, 60, "still")
    assert fix_interval(False, False, STILL_AFTER_S - 1, FAR_DM, True) == (BASE_S, 0, "base")
    assert fix_interval(False, False, STILL_AFTER_S, FAR_DM - 1, True) == (BASE_S, 0, "base")
    assert fix_interval(False, False, 86400, FAR_DM, False) == (BASE_S, 0, "base")
