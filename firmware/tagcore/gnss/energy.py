# The receiver's energy per fix in each power mode, from the board profile: a pure function of
# named inputs, so the planner can choose a mode per fix and the bench can print why.
#
# Units are integers: currents in microamperes, times in seconds, charge in microampere-seconds
# (uA*s; 3.6e6 uA*s = 1 mAh). TTFF is a field distribution, given as equal-probability quantile
# points (for example ten deciles of real hot starts, 2-30 s and often ~10 s); the model uses its
# mean, and the search cap its maximum.
#
# Per fix interval T:
#   continuous  track * T
#   cyclic      cyclic * T                       (the receiver's 1 s power save, averaged)
#   backup      acq * ttff + track * hold + backup * (T - ttff - hold) + ephemeris refresh
#   off         the same with the off current and a cold start unless a backup supply keeps
#               RAM while the rail is cut (backup_on_rail_off)
# where ttff is the hot distribution's mean while T is within the hot window, else the cold
# one's; ephemeris refresh is eph_s of tracking every hot_window / 2 (short hot-start sessions
# never download new ephemeris, Meshtastic keeps the receiver on after a fix for the same
# reason). A mode is infeasible (None) when its worst start (the distribution's last quantile
# point) plus the hold does not fit in T: the fix of that interval would come late, and the
# receiver would never get to sleep.
from collections import namedtuple

from tagcore.gnss.power import BACKUP, CONTINUOUS, CYCLIC, OFF

Receiver = namedtuple(
    "Receiver",
    (
        "acq_ua",  # acquiring
        "track_ua",  # tracking, continuous
        "cyclic_ua",  # average in the receiver's power save (0: no power save)
        "backup_ua",  # soft backup / standby, from the battery (0 with no soft backup)
        "off_ua",  # rail cut: what the backup supply still draws from the battery
        "hot_s",  # hot-start TTFF quantiles, s (tuple of ints)
        "cold_s",  # cold-start TTFF quantiles, s
        "hot_window_s",  # off for less than this: a hot start is possible
        "backup_on_rail_off",  # RAM kept with the rail cut (a backup cell or V_BCKP)
        "cyclic",  # the family has a power save the driver uses
        "soft_backup",  # the family has a commanded backup / standby
        "rail",  # the board can cut the receiver's rail
    ),
)

HOLD_S = 2  # tracking after the first fix: the epoch the tag reads, and the next one
EPH_S = 30  # tracking to collect a fresh ephemeris set
NEVER_SLEEP_S = 10  # at fix intervals up to this the receiver stays on (Meshtastic's rule too)
SEARCH_MAX_S = 900  # a search within the interval is capped here (15 min) ...
MODES = (CONTINUOUS, CYCLIC, BACKUP, OFF)  # in the order of what each one risks
# A mode later in MODES must save this much to replace an earlier one: power save tracks worse
# in canyons, a backup start can come up late, a rail cut can lose RAM where the backup supply
# is not what the profile says (Meshtastic issue 11701: cold wakes from hard sleep). A few uA
# are not worth that; the model's own error (bench_gnss_energy.py: sim/model 0.7-1.0) is larger.
MARGIN_PCT = 10


def mean_s(q):
    """The mean of equal-probability quantile points, rounded up."""
    return (sum(q) + len(q) - 1) // len(q)


def hot_start(mode, interval_s, rx):
    """Whether each fix in `mode` begins with a hot start (else cold)."""
    if interval_s > rx.hot_window_s:
        return False
    return mode != OFF or bool(rx.backup_on_rail_off)


def start_quantiles(mode, interval_s, rx):
    """The TTFF distribution of the start each fix begins with in `mode`."""
    return rx.hot_s if hot_start(mode, interval_s, rx) else rx.cold_s


def supported(mode, rx):
    if mode == CYCLIC:
        return bool(rx.cyclic and rx.cyclic_ua)
    if mode == BACKUP:
        return bool(rx.soft_backup)
    if mode == OFF:
        return bool(rx.rail)
    return True


def charge_per_fix(mode, interval_s, rx):
    """Expected receiver charge (uA*s) over one fix interval in `mode`; None if infeasible."""
    t = interval_s
    if not supported(mode, rx) or t <= 0:
        return None
    if mode == CONTINUOUS:
        return rx.track_ua * t
    if mode == CYCLIC:
        return rx.cyclic_ua * t
    if t <= NEVER_SLEEP_S:
        return None
    hot = hot_start(mode, t, rx)
    q = rx.hot_s if hot else rx.cold_s
    if max(q) + HOLD_S >= t:
        return None
    ttff = mean_s(q)
    on = ttff + HOLD_S
    sleep_ua = rx.backup_ua if mode == BACKUP else rx.off_ua
    c = rx.acq_ua * ttff + rx.track_ua * HOLD_S + sleep_ua * (t - on)
    if hot:  # hot starts need the ephemeris kept fresh
        c += rx.track_ua * EPH_S * t // (rx.hot_window_s // 2)
    return c


def choose(interval_s, rx):
    """(mode, charge) of the feasible mode to use: the cheapest, except that a riskier mode
    (later in MODES) must save MARGIN_PCT over the best so far. Continuous is always feasible."""
    best = CONTINUOUS
    best_q = charge_per_fix(CONTINUOUS, interval_s, rx)
    for m in MODES:
        q = charge_per_fix(m, interval_s, rx)
        if q is not None and q * 100 <= best_q * (100 - MARGIN_PCT):
            best, best_q = m, q
    return best, best_q


def search_cap_s(mode, interval_s, rx, after_failure):
    """How long a search may run before it is given up. Never below twice the worst field TTFF
    of the start it will be (cold after a failure: a search cut before a cold start can finish
    never succeeds, Meshtastic issue 5132), else up to the interval, at most 15 min."""
    q = rx.cold_s if after_failure else start_quantiles(mode, interval_s, rx)
    return max(2 * max(q), min(interval_s, SEARCH_MAX_S))
