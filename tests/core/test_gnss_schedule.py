# The search schedule: predicted lock time, early start, search cap, back-off. Both runtimes.
from tagcore.gnss.energy import Receiver
from tagcore.gnss.power import BACKUP, OFF
from tagcore.gnss.schedule import BACKOFF_MAX_S, SearchSchedule

HOT = (2, 4, 6, 8, 10, 10, 12, 15, 20, 30)  # mean 12
COLD = (26, 28, 30, 32, 35, 38, 42, 48, 55, 70)  # mean 41, max 70
M8 = Receiver(32000, 29000, 9500, 20, 0, HOT, COLD, 7200, True, True, True, True)
UC = Receiver(45000, 40000, 0, 0, 0, COLD, COLD, 7200, False, False, False, True)


def test_prediction_ignores_the_first_lock_and_averages_the_rest():
    s = SearchSchedule(M8)
    assert s.predicted_s(BACKUP, 60) == 12  # the profile's hot mean until measured
    assert s.predicted_s(OFF, 60) == 12  # backup cell: hot after a rail cut too
    assert SearchSchedule(UC).predicted_s(OFF, 300) == 41
    s.locked(45)  # the cold first lock
    assert s.predicted_s(BACKUP, 60) == 12
    s.locked(8)
    assert s.predicted_s(BACKUP, 60) == 8
    s.locked(20)  # (8 * 3 + 20) / 4 = 11, rounded up
    assert s.predicted_s(BACKUP, 60) == 11
    s.power_cycled()
    s.locked(50)  # cold again: ignored
    assert s.predicted_s(BACKUP, 60) == 11


def test_early_start_and_the_cap_never_below_a_cold_start_after_failure():
    s = SearchSchedule(M8)
    s.locked(40)
    s.locked(10)
    start, stop = s.plan(1000, BACKUP, 60)
    assert start == 990 and stop - start == 60  # twice the worst hot start (30 s)
    s.failed()
    start, stop = s.plan(2000, BACKUP, 60)
    assert start == 2000 - 41  # cold predicted after a failure
    assert stop - start >= 2 * max(COLD)  # 140 s: a cold start can finish
    for interval in (15, 60, 300, 3600):
        assert s.plan(0, BACKUP, interval)[1] - s.plan(0, BACKUP, interval)[0] >= 140


def test_back_off_doubles_to_a_cap_never_when_near_and_resets_on_lock():
    s = SearchSchedule(M8)
    assert s.next_due(0, 60) == 60
    gaps = []
    for _ in range(6):
        s.failed()
        gaps.append(s.next_due(0, 60))
    assert gaps == [120, 240, 480, 600, 600, 600] and max(gaps) == BACKOFF_MAX_S
    assert s.next_due(0, 60, near=True) == 60
    assert s.next_due(0, 15, near=True) == 15
    s.locked(12)
    assert s.failures == 0 and s.next_due(100, 60) == 160
    s2 = SearchSchedule(M8)
    s2.failed()
    assert s2.next_due(0, 900) == 900  # never shorter than the interval itself
    assert s2.counts == {"failed": 1}
