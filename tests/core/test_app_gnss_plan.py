# The planner driving the receiver (cfg.gnss_plan 1): the mode per fix from the energy model,
# early start, the search cap after a failure, back-off, no receiver left on when "off".
# Both runtimes. The receivers are the profiles' figures (boards/*.json) in energy units.
from gnsstest import COLD, M8
from tagcore.app.app import GNSS_BACKUP, GNSS_CYCLIC, GNSS_OFF, GNSS_ON, Planner
from tagcore.app.config import TagConfig
from tagcore.gnss.energy import Receiver

UC_COLD = (28, 30, 33, 36, 40, 44, 48, 52, 57, 65)
UC = Receiver(45000, 40000, 0, 0, 0, UC_COLD, UC_COLD, 7200, False, False, False, True)
T0 = 800000000
MPY_HEAP = 196608  # app.py imports the store and the NMEA reader with it


def _fix(p, now):
    p.fix_taken(now, None)


def test_the_fixed_plan_is_kept_without_the_model():
    p = Planner(TagConfig(gnss_plan=0), T0, rx=M8)
    assert p.rx is None and p.gnss_mode() == GNSS_OFF
    assert p.search_due(T0) and p.gnss_mode() == GNSS_ON
    _fix(p, T0 + 5)
    assert p.gnss_mode() == GNSS_OFF and p.next_fix == T0 + 65  # 60 s after the fix


def test_the_fixed_plan_never_caps_a_search_below_a_cold_start_after_a_failure():
    # max_search_s may be as low as 5 s: fine for a hot start, but a search given up before a
    # cold start can finish never succeeds (Meshtastic issue 5132). After a failure the next
    # cap covers twice the profile's worst field cold TTFF, as the model plan's does; a fix
    # brings the configured cap back. The rail still only follows the search (on / off).
    p = Planner(TagConfig(gnss_plan=0, max_search_s=5), T0, cold_s=max(COLD))
    assert p.search_due(T0) and p.cap == 5
    assert not p.give_up(T0 + 4) and p.give_up(T0 + 5)  # the configured cap, no failure yet
    assert p.gnss_mode() == GNSS_OFF and p.cap == 2 * max(COLD)
    assert p.search_due(p.next_fix)
    start = p.search_from
    assert p.wake_time(start, None) == start + 2 * max(COLD)  # woken to give up there
    assert not p.give_up(start + 2 * max(COLD) - 1)
    _fix(p, start + 45)  # a cold start that a 5 s cap would have cut
    assert p.cap == 5 and p.gnss_mode() == GNSS_OFF and p.next_fix == start + 45 + 60
    # a cap configured above it is kept; without a profile figure (0) nothing changes
    p = Planner(TagConfig(gnss_plan=0, max_search_s=300), T0, cold_s=max(COLD))
    p.search_due(T0)
    assert p.give_up(T0 + 300) and p.cap == 300
    p = Planner(TagConfig(gnss_plan=0, max_search_s=5), T0)
    p.search_due(T0)
    assert p.give_up(T0 + 5) and p.cap == 5


def test_the_app_gives_the_fixed_plan_the_profiles_cold_start():
    from tagcore.app.app import TagApp
    from tagcore.gnss.profile import field_cold_s
    from tagkit.memfs import MemFs

    doc = {"gnss": {"ttff_field_s": {"hot": list(COLD), "cold": list(COLD)}}}
    assert field_cold_s(doc) == max(COLD) and field_cold_s({}) == 0
    tag = TagApp(TagConfig(max_search_s=5), MemFs(), T0, cold_s=field_cold_s(doc))
    assert tag.gnss_on
    tag.wake(T0 + 5)  # given up: the next search may be cold
    assert not tag.gnss_on and tag.planner.cap == 2 * max(COLD)


def test_one_fix_a_minute_on_an_m8_sleeps_in_backup_and_starts_early():
    p = Planner(TagConfig(gnss_plan=1), T0, rx=M8)
    assert p.search_due(T0) and p.gnss_mode(T0) == GNSS_ON
    assert p.cap >= 2 * max(COLD)  # the first start is cold: never cut before it can finish
    _fix(p, T0 + 40)  # the cold first lock (not a prediction)
    assert p.gnss_mode(T0 + 100) == GNSS_BACKUP  # energy.choose at 60 s: backup, hot start
    assert p.next_fix == T0 + 100 - 12  # early by the profile's hot mean: the fix lands on time
    # the MCU sleeps through the earliest hot start only
    assert p.search_due(T0 + 88) and not p.listening(T0 + 88) and p.listening(T0 + 89)
    _fix(p, T0 + 98)  # locked in 10 s: the prediction learns it
    assert p.sched.pred_s == 10 and p.next_fix == T0 + 158 - 10


def test_near_a_zone_the_receiver_stays_on_in_power_save():
    class Near:
        def wanted_interval(self, now):
            return 15

    p = Planner(TagConfig(gnss_plan=1, guard_kmh=0), T0, zones=Near(), rx=M8)
    p.search_due(T0)
    _fix(p, T0 + 40)
    # at 15 s backup cannot fit a worst hot start (30 s): the M8's 1 s power save
    assert p.idle == GNSS_CYCLIC and p.gnss_mode(T0 + 41) == GNSS_CYCLIC
    assert p.next_fix == T0 + 55  # no early start: it is tracking


def test_a_receiver_without_soft_sleep_stays_on_when_a_cold_start_cannot_fit():
    p = Planner(TagConfig(gnss_plan=1), T0, rx=UC)
    p.search_due(T0)
    _fix(p, T0 + 50)
    assert p.idle == GNSS_ON  # off would be cold every minute (65 s worst): infeasible
    p = Planner(TagConfig(gnss_plan=1, fix_interval_s=600), T0, rx=UC)
    p.search_due(T0)
    _fix(p, T0 + 50)
    assert p.idle == GNSS_OFF and p.next_fix == T0 + 650 - 44  # rail cut, cold mean early


def test_after_a_failure_the_cap_covers_a_cold_start_and_the_gap_backs_off():
    p = Planner(TagConfig(gnss_plan=1, max_search_s=5), T0, rx=M8)
    p.search_due(T0)
    _fix(p, T0 + 40)
    p.search_due(p.next_fix)
    start = p.search_from
    assert not p.give_up(start + 59)
    assert p.give_up(start + 60)  # twice the worst hot start, above max_search_s
    assert p.gnss_mode(start + 61) == GNSS_BACKUP  # not left searching
    assert p.cap >= 2 * max(COLD)  # the next search may be cold: never cut before it ends
    assert p.next_fix - (start + 60) >= 120 - 41  # the gap doubled (back-off), early by cold
    p.search_due(p.next_fix)
    _fix(p, p.search_from + 30)  # a lock resets the back-off
    assert p.sched.failures == 0 and p.cap == 60


def test_no_back_off_near_a_zone():
    class Near:
        def wanted_interval(self, now):
            return 30

    p = Planner(TagConfig(gnss_plan=1, guard_kmh=0, max_search_s=5), T0, zones=Near(), rx=M8)
    p.search_due(T0)
    _fix(p, T0 + 40)
    p.search_due(p.next_fix)
    s = p.search_from
    p.give_up(s + p.cap)
    assert p.next_fix <= s + p.cap + 30  # the zone's interval, not doubled


def test_the_ephemeris_is_refreshed_every_half_hot_window():
    p = Planner(TagConfig(gnss_plan=1), T0, rx=M8)
    p.search_due(T0)
    _fix(p, T0 + 40)
    t = T0 + 40
    held = 0
    while t < T0 + 9000:
        t = p.next_fix
        p.search_due(t)
        t += 10
        _fix(p, t)
        if p.gnss_mode(t + 1) == GNSS_ON:
            held += 1
            assert p.gnss_mode(t + 30) == GNSS_BACKUP
    assert held == 2  # at 1 h and 2 h: 30 s of tracking each (energy.EPH_S)


def test_power_save_that_keeps_missing_the_fix_falls_back_to_full_power_for_a_while():
    # indoors power save loses the signal (longer integration gaps): three searches in a row
    # more than 5 s late and the receiver runs continuous for 10 min, then tries again
    class Near:
        def wanted_interval(self, now):
            return 15

    p = Planner(TagConfig(gnss_plan=1, guard_kmh=0), T0, zones=Near(), rx=M8)
    p.search_due(T0)
    _fix(p, T0 + 40)
    assert p.idle == GNSS_CYCLIC
    for _ in range(2):
        p.search_due(p.next_fix)
        _fix(p, p.search_from + 9)
        assert p.idle == GNSS_CYCLIC
    p.search_due(p.next_fix)
    _fix(p, p.search_from + 9)
    assert p.idle == GNSS_ON and p.gnss_mode(p.next_fix - 1) == GNSS_ON
    t = p.next_fix
    while t < T0 + 40 + 700:  # prompt fixes at full power; power save again after 10 min
        p.search_due(t)
        _fix(p, t + 1)
        t = p.next_fix
    assert p.idle == GNSS_CYCLIC


class _Prox:
    # tagcore.proximity.monitor's planner calls: nothing around, a slow scan every 20 s
    def __init__(self):
        self.last = T0 - 20  # a scan is due at T0, then every 20 s

    def next_scan(self, now):
        return (self.last + 20 if self.last + 20 > now else now), 1500

    def urgent(self):
        return False


def _pfix(lat, lon):
    from tagcore.fix import Fix

    return Fix(T0, 0, lat, lon, None, None, None, 50, None, 8, 1, 3, 1)


def test_idle_scans_wait_while_the_victim_is_too_far_to_be_reached():
    p = Planner(TagConfig(gnss_plan=1, guard_kmh=130), T0, proximity=_Prox(), rx=M8)
    assert p.scan(T0, False)  # nothing known: the proximity core's cadence
    p.fix_taken(T0, _pfix(52520000, 13370000))
    p.victim_seen(T0, 52520000, 13520000, 100)  # 10.2 km east
    # (10.2 km - 300 m - accuracies) at 2 x 130 km/h: about 137 s before they could meet
    assert not p.scan(T0 + 20, False)
    assert 130 <= p.next_scan - T0 <= 140
    assert p.scan(p.next_scan, False)  # then the core's cadence again, until positions move
    p.victim_seen(T0 + 200, 52520000, 13371000, 100)  # 70 m away: no waiting
    p.fix_taken(T0 + 200, _pfix(52520000, 13370000))
    assert p.apart == 0 and p.scan(T0 + 220, False)


def test_the_fixed_plan_scans_as_the_proximity_core_says():
    p = Planner(TagConfig(gnss_plan=0), T0, proximity=_Prox(), rx=M8)
    p.fix_taken(T0, _pfix(52520000, 13370000))
    p.victim_seen(T0, 52520000, 13520000, 100)
    assert p.scan(T0 + 20, False)


class _Near(_Prox):
    # a beacon in range the whole time: the proximity core wants back-to-back 10 s scans
    def next_scan(self, now):
        return (self.last if self.last > now else now), 10000

    def urgent(self):
        return True


def _scans(p, prox, t, until):
    starts = []
    while t < until:
        if p.scan(t, False):
            starts.append(t)
            t += 10
            p.scan_ended(t)
            prox.last = t
        else:
            t = p.next_scan
    return starts


def test_a_long_alerted_encounter_scans_a_minute_apart_not_back_to_back():
    prox = _Near()
    p = Planner(TagConfig(gnss_plan=1), T0, proximity=prox, rx=M8)
    first = _scans(p, prox, T0, T0 + 600)
    assert len(first) == 60  # back to back while the encounter is young
    p.alert(T0 + 600)  # K_NEAR went out
    _scans(p, prox, T0 + 600, T0 + 900)
    later = _scans(p, prox, T0 + 1000, T0 + 4600)
    gaps = [later[i + 1] - later[i] for i in range(len(later) - 1)]
    assert min(gaps) >= 60 and len(later) >= 59  # presence still checked every minute


def test_without_an_alert_the_encounter_scans_stay_back_to_back():
    prox = _Near()
    p = Planner(TagConfig(gnss_plan=1), T0, proximity=prox, rx=M8)
    assert len(_scans(p, prox, T0, T0 + 3600)) == 360
