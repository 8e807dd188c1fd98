# Weekly curfew rules evaluated on the tag, in local time, for as long as the configuration is
# in force (issue 13, item 11): the blob carries each scheduled zone's rules and its time zone's
# UTC offset changes (DST transitions, years of them) instead of weeks of expanded windows.
#
#   rules: array of (days, start, end) ints: days a bit mask (bit 0 Monday .. bit 6 Sunday),
#          start and end seconds of the local day; an end at or before the start is the next
#          day.
#   tz:    array [base offset, t1, offset1, t2, offset2, ...]: UTC offset (s) before the first
#          change, then each change's UTC instant (s since 2000) and the offset from then on.
#
# Local times that do not exist (spring forward) start or end at the instant the clocks change;
# times that happen twice (fall back) start at the first and end at the second occurrence, so
# a window is never shorter than ordered: the host's taghost.zoneschedule.local_to_utc rule,
# held against it in tests/test_zones_curfew.py. Only imported when a zone has rules.
from tagcore.compat import const

DAY = const(86400)
FAR = const(0x3FFFFFFF)


def _count(tz, u):
    # How many offset changes happen at or before u (binary search).
    lo = 0
    hi = (len(tz) - 1) >> 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if tz[1 + 2 * mid] <= u:
            lo = mid + 1
        else:
            hi = mid
    return lo


def offset_at(tz, u):
    """The UTC offset (s) in force at UTC instant u."""
    c = _count(tz, u)
    return tz[0] if c == 0 else tz[2 * c]


def to_utc(tz, lt, latest):
    """The UTC instant of local time lt (local seconds since 2000): see the module notes."""
    c = _count(tz, lt - DAY)
    a = tz[0] if c == 0 else tz[2 * c]
    b = offset_at(tz, lt + DAY)
    if a == b:
        return lt - a
    t = tz[1 + 2 * c]  # the change between (offset changes are months apart)
    ua = lt - a
    ub = lt - b
    if ua < t:
        if ub >= t:  # happens twice (fall back)
            return ub if latest else ua
        return ua
    if ub >= t:
        return ub
    return t  # does not exist (spring forward): the instant the clocks change


def state(rules, tz, t):
    """(active, next change) of the rules at UTC instant t: 1 and when the window holding t
    ends, or 0 and when the next one starts."""
    d = (t + offset_at(tz, t)) // DAY
    end = FAR
    nxt = FAR
    on = 0
    for day in range(d - 1, d + 8):
        bit = 1 << ((day + 5) % 7)  # day 0, 2000-01-01, was a Saturday (bit 5)
        for j in range(0, len(rules), 3):
            if not rules[j] & bit:
                continue
            s = rules[j + 1]
            e = rules[j + 2]
            ls = day * DAY + s
            le = (day + 1) * DAY + e if e <= s else day * DAY + e
            us = to_utc(tz, ls, False)
            ue = to_utc(tz, le, True)
            if us >= ue:
                continue  # the clock change leaves no window this night
            if us <= t < ue:
                on = 1
                if ue < end:
                    end = ue
            elif t < us < nxt:
                nxt = us
    return (1, end) if on else (0, nxt)
