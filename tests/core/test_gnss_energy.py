# The energy model: charge per fix of each mode, its feasibility and the mode chosen. Both
# runtimes. Expected figures are worked by hand from the formula in tagcore/gnss/energy.py.
from tagcore.gnss.energy import (
    Receiver,
    charge_per_fix,
    choose,
    hot_start,
    mean_s,
    search_cap_s,
    start_quantiles,
)
from tagcore.gnss.power import BACKUP, CONTINUOUS, CYCLIC, OFF

HOT = (2, 4, 6, 8, 10, 10, 12, 15, 20, 30)  # mean 11.7 -> 12
COLD = (26, 28, 30, 32, 35, 38, 42, 48, 55, 70)  # mean 40.4 -> 41

M8 = Receiver(32000, 29000, 9500, 20, 0, HOT, COLD, 7200, True, True, True, True)
UC = Receiver(45000, 40000, 0, 0, 0, COLD, COLD, 7200, False, False, False, True)


def test_means_round_up():
    assert mean_s(HOT) == 12 and mean_s(COLD) == 41 and mean_s((5,)) == 5


def test_continuous_and_cyclic_are_current_times_interval():
    assert charge_per_fix(CONTINUOUS, 60, M8) == 29000 * 60
    assert charge_per_fix(CYCLIC, 60, M8) == 9500 * 60
    assert charge_per_fix(CYCLIC, 60, UC) is None  # no power save


def test_backup_is_a_hot_start_plus_sleep_plus_ephemeris():
    # 32 mA x 12 s + 29 mA x 2 s + 20 uA x 46 s + 29 mA x 30 s x 60 / 3600
    assert charge_per_fix(BACKUP, 60, M8) == 384000 + 58000 + 920 + 14500


def test_off_with_a_backup_supply_is_hot_without_it_cold():
    assert charge_per_fix(OFF, 60, M8) == 384000 + 58000 + 0 + 14500
    # UC6580: cold every time, 45 mA x 41 s + 40 mA x 2 s, no ephemeris term
    assert charge_per_fix(OFF, 300, UC) == 45000 * 41 + 40000 * 2
    assert not hot_start(OFF, 300, UC) and start_quantiles(OFF, 300, UC) == COLD


def test_beyond_the_hot_window_every_start_is_cold():
    assert start_quantiles(BACKUP, 7201, M8) == COLD and hot_start(BACKUP, 7200, M8)
    assert charge_per_fix(BACKUP, 7201, M8) == 32000 * 41 + 29000 * 2 + 20 * (7201 - 43)


def test_infeasible_when_the_start_does_not_fit():
    assert charge_per_fix(BACKUP, 10, M8) is None  # never sleeps at 10 s
    assert charge_per_fix(BACKUP, 32, M8) is None  # the worst hot start (30 s) + 2 s hold
    assert charge_per_fix(BACKUP, 33, M8) is not None
    assert charge_per_fix(OFF, 72, UC) is None  # the worst cold start (70 s) + 2 s
    assert charge_per_fix(OFF, 73, UC) is not None


def test_choice_follows_the_interval():
    assert choose(15, M8)[0] == CYCLIC  # a hot start costs more than 15 s of power save
    # a rail cut saves only the 20 uA of backup: not worth its risk (MARGIN_PCT)
    assert choose(60, M8) == (BACKUP, charge_per_fix(BACKUP, 60, M8))
    assert charge_per_fix(OFF, 60, M8) < charge_per_fix(BACKUP, 60, M8)
    assert choose(45, UC) == (CONTINUOUS, 40000 * 45)
    assert choose(60, UC) == (CONTINUOUS, 40000 * 60)  # a cold start may take 70 s
    assert choose(120, UC) == (OFF, 45000 * 41 + 40000 * 2)
    assert choose(300, UC)[0] == OFF
    assert choose(300, M8)[0] == BACKUP
    # with a costly standby (L76K-like 1 mA) the rail cut saves enough
    l76k = Receiver(32000, 29000, 0, 1000, 0, HOT, COLD, 7200, True, False, True, True)
    assert choose(300, l76k) == (OFF, charge_per_fix(OFF, 300, l76k))
    assert charge_per_fix(OFF, 300, l76k) * 100 <= charge_per_fix(BACKUP, 300, l76k) * 90


def test_search_cap_never_below_a_cold_start_after_a_failure():
    assert search_cap_s(BACKUP, 60, M8, False) == 60  # twice 30 s
    assert search_cap_s(BACKUP, 60, M8, True) == 140  # twice the worst cold start
    assert search_cap_s(BACKUP, 3600, M8, True) == 900
    for t in (15, 60, 300, 3600, 86400):
        assert search_cap_s(OFF, t, UC, True) >= 2 * max(COLD)
