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
# Without a motion sensor the rate stays at 60 s: the tag cannot know the wearer left without a
# fix, and a car covers 2 km in about a minute. The receiver mode per fix is energy.choose's.
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
