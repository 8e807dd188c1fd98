# The fix rate the planner asks for, from what the zone and proximity cores already say and how
# long the wearer has been still (docs/gnss.md argues the policy). A pure function:
#
#   near a zone or the victim          15 s  (zone and curfew checks need the resolution)
#   otherwise                          60 s  (the agencies' trail: a location every minute)
#   still >= 10 min, every zone >= 2 km away, and a motion sensor that wakes the tag:
#                                      300 s between GNSS fixes, and a "still" record every
#                                      60 s in between (the last fix's position with the
#                                      sensor's no-motion word: flagged, never a fix)
#
# fix_interval is the policy for a board with a motion sensor (none declares one yet: not
# wired). Without one, the planner's still rate (Still, below; cfg.still_fix_s, model plan)
# decides stillness from GNSS alone: fixes within their accuracy of the spell's first one, slow,
# for STILL_AFTER_S; then one fix every cfg.still_fix_s (90 s by default) instead of 60, and no
# still records (nothing is known between the fixes). The planner keeps the normal rate near a
# zone, before a curfew window changes, near the victim, during an integrity alert and after a
# poor fix; docs/gnss.md "Adaptive rate" argues the cap. The receiver mode per fix is
# energy.choose's.
from tagcore.compat import const

NEAR_S = const(15)
BASE_S = const(60)
STILL_FIX_S = const(300)  # GNSS fixes at most 5 min apart even when still
TRAIL_S = const(60)  # one trail record a minute, whatever the rate
STILL_AFTER_S = const(600)  # still this long (fixes within their accuracy) before slowing
FAR_DM = const(20000)  # 2 km to the nearest zone edge

R_NEAR_ZONE = "near_zone"
R_NEAR_VICTIM = "near_victim"
R_BASE = "base"
R_STILL = "still"


def fix_interval(zone_near, victim_near, still_s, nearest_zone_dm, motion_sensor):
    """(seconds to the next GNSS fix, seconds between still records or 0, reason).
    nearest_zone_dm: distance to the nearest zone edge in decimetres, < 0 if there are none."""
    if zone_near:
        return NEAR_S, 0, R_NEAR_ZONE
    if victim_near:
        return NEAR_S, 0, R_NEAR_VICTIM
    far = nearest_zone_dm < 0 or nearest_zone_dm >= FAR_DM
    if motion_sensor and far and still_s >= STILL_AFTER_S:
        return STILL_FIX_S, TRAIL_S, R_STILL
    return BASE_S, 0, R_BASE


# The GNSS-only still rate (no motion sensor).
STILL_ACC_DM = const(300)  # a fix worse than 30 m (NIJ's indoor figure) is poor: normal rate
STILL_CMS = const(50)  # faster than 0.5 m/s (a walk is 1.4) is moving, whatever the position
STILL_MARGIN_S = const(600)  # no slowing this long before a curfew window opens or closes
# Without the drive-through guard, every exclusion zone at least 1 km away: a cyclist at 25 km/h
# covers 1 km in the still rate plus a worst hot start (150 s), a walker 210 m. Vehicles are the
# guard's (a car covers 830 m between minute fixes on the normal rate too).
STILL_FAR_DM = const(10000)


class Still:
    """How long the wearer has been still, from accepted fixes alone: every fix since the spell's
    first (the anchor) within twice the two fixes' accuracy of it (acc_dm is 1 sigma: twice is
    about the 95 % circle; once, a still wearer indoors "moved" one fix in six), each good
    (accuracy known, at most
    STILL_ACC_DM) and slow (speed unknown or at most STILL_CMS). The first fix that fails any of
    these ends the spell; a moved good fix starts the next one."""

    def __init__(self):
        self.anchor = None  # (lat, lon, acc_dm) of the spell's first fix; None: not still
        self.since = 0

    def fix(self, now, f):
        if f is None or f.acc_dm is None or f.acc_dm <= 0 or f.acc_dm > STILL_ACC_DM:
            self.anchor = None  # a poor fix says nothing about where the wearer is
            return
        if f.speed_cms is not None and f.speed_cms > STILL_CMS:
            self.anchor = None
            return
        a = self.anchor
        if a is not None:
            from tagcore.geo import dist_dm

            if dist_dm(a[0], a[1], f.lat, f.lon) <= 2 * (a[2] + f.acc_dm):
                return
        self.anchor = (f.lat, f.lon, f.acc_dm)
        self.since = now

    def lost(self):
        """A search without a fix: nothing is known."""
        self.anchor = None

    def still_s(self, now):
        return now - self.since if self.anchor is not None else 0
