# Epoch assembly: the sentences a receiver sends for one measurement instant become one Fix.
# Sentences with a UTC time (GGA, RMC, GLL, GNS, GST, ZDA) open a new epoch when their time
# differs from the open one; GSA and VTG carry no time and join the open epoch, unless they
# contradict its fix status (the receiver has begun its next cycle): then they open an epoch
# whose time is pending, which the next timed sentence adopts. With no epoch open (the start,
# or after flush()) they open a pending epoch too.
# The epoch's date: civil dates as day numbers since 2000-01-01 and the GPS week-rollover rule,
# integer arithmetic only (after H. Hinnant's days_from_civil), so no datetime on the device.
# (Here, not a module of their own: on MicroPython each module costs heap, about 0.5 KB.)
from tagcore.compat import const
from tagcore.fix import FLAG_ACC_GST, FLAG_ACC_HDOP, FLAG_DATE_CARRIED, FLAG_DATE_ROLLOVER, Fix
from tagcore.gnss.nmeafields import EMPTY

ROLLOVER_DAYS = const(7168)  # 1024 GPS weeks: the 10-bit week counter wraps after this
GPS_EPOCH_DAYS = const(-7300)  # 1980-01-06, the first day any GPS receiver can report
SECONDS_PER_DAY = const(86400)
# How far past its floor a tag's true date can be: 15 years, longer than any tag's service and
# below the 19.6-year rollover period, so a date less than 4.6 years before the floor is refused.
_SPAN_DAYS = const(5479)


def days_from_civil(y, m, d):
    """Days since 2000-01-01 for a proleptic Gregorian date."""
    if m <= 2:
        y -= 1
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 730425


_MDAYS = const((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31))  # const: no slot in the globals


def valid_date(y, m, d):
    if m < 1 or m > 12 or d < 1 or d > _MDAYS[m - 1]:
        return False
    if m == 2 and d == 29:
        return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return True


def unroll(days, floor):
    """Undo GPS week rollover against a date floor.

    A receiver whose week counter wrapped reports a date a multiple of 1024 weeks too early. The
    tag's true date lies in [floor, floor + _SPAN_DAYS), the floor being the earliest date the tag
    can really be at (its build date, or the last stored fix). A date in that window is taken as
    it is; a date before the floor is moved forward by whole rollover periods only if that lands
    it in the window: a date a few days or years before the floor (a stale receiver clock, a fix
    older than the last stored one) is no rollover artefact. Returns (days, periods added), or
    (-1, -1) for a date that no receiver could report (before the GPS epoch), that lies beyond
    the window, or that no whole number of rollovers brings into it (test the periods: day -1
    is 1999-12-31).
    """
    if days < GPS_EPOCH_DAYS:
        return -1, -1
    end = floor + _SPAN_DAYS
    if days < floor:
        k = (floor - days + ROLLOVER_DAYS - 1) // ROLLOVER_DAYS
        days += k * ROLLOVER_DAYS
        if days >= end:
            return -1, -1
        return days, k
    if days >= end:
        return -1, -1
    return days, 0


NSYS = const(8)  # constellation slots: 0 unknown, 1 GPS, 2 GLONASS, 3 Galileo, 4 BeiDou,
# 5 QZSS, 6 NavIC, 7 SBAS
_HALF_DAY_MS = const(43200000)
_DAY_MS = const(86400000)

# GGA-style quality for the NMEA mode letters A..Z (A D P R F E M S N; "-" = not a mode).
_MODE_Q = const(b"1--265------70-3-48-------")  # const: no slot in the globals


def mode_quality(c):
    """GGA-style quality for an NMEA mode letter (A D P R F E M S N), -1 if unknown."""
    q = _MODE_Q[c - 65] if 65 <= c <= 90 else 45
    return -1 if q == 45 else q - 48


class Epoch:
    """What the sentences of one epoch said. Plain int attributes, reset in place per epoch.
    (Kept to 16 attributes: on MicroPython a 17th doubles the instance's hash table.)"""

    def __init__(self):
        self.used = bytearray(NSYS)  # satellites used per constellation (from GSA)
        self.reset(EMPTY)
        self.open = False

    def reset(self, tod):
        self.open = True
        self.tod = tod
        self.days = EMPTY  # this epoch's own date (RMC or ZDA), before rollover correction
        self.lat = EMPTY
        self.lon = EMPTY
        self.quality = -1  # from GGA / GNS; -1 = not said
        self.ok = 0  # 1: a sentence said "valid"; -1: one said "void" (V, N), which sticks
        self.alt_dm = EMPTY
        self.hdop_c = EMPTY  # from GGA / GNS, else from GSA
        self.src = 0  # rank of the sentence the position came from (nmea._SRC_*); 0 = none
        self.sats = EMPTY  # GGA / GNS count
        self.speed_cms = EMPTY
        self.course_cd = EMPTY
        self.fixtype = -1  # GSA fix type 1/2/3; 0 = a GSA without one; -1 = no GSA
        self.gst_acc = EMPTY  # GST: horizontal 1-sigma in dm
        used = self.used
        for i in range(NSYS):
            used[i] = 0

    def position(self, lat, lon, rank):
        """Take a sentence's position if it outranks the one held (GGA > GNS > RMC = GLL; the
        first of equal rank), or fills a gap. True if the sentence outranks: then its other
        solution fields (quality, HDOP, altitude, satellites) are the epoch's too."""
        take = rank > self.src
        if take:
            self.src = rank
        if lat != EMPTY and lon != EMPTY and (take or self.lat == EMPTY):
            self.lat = lat
            self.lon = lon
        return take

    def status(self, ok):
        if not ok:
            self.ok = -1
        elif self.ok == 0:
            self.ok = 1


class DateKeeper:
    """Dates for epochs (close_epoch): the epoch's own (rollover-corrected) or carried from the
    last good one. State only: close_epoch does the work, with no (days, flags) tuple."""

    def __init__(self, floor):
        self.floor = floor  # earliest day number the tag can really be at
        self.days = EMPTY  # date of the last epoch that had a trustworthy date
        self.tod = 0


def close_epoch(ep, dates, uere_dm, counts):
    """The Fix for a finished epoch, or None (reason counted). No-fix epochs give quality 0."""
    ep.open = False
    if ep.tod < 0:  # EMPTY, or pending (nmea._PENDING)
        counts["no_time"] = counts.get("no_time", 0) + 1
        return None
    q = ep.quality
    if q < 0:
        q = 1 if ep.ok > 0 else 0
    if ep.ok < 0 or ep.lat == EMPTY:
        q = 0
    ep.quality = q
    # The date: the epoch's own, rollover-corrected, else carried from the last dated epoch.
    flags = 0
    days = EMPTY
    if ep.days != EMPTY and q > 0:
        d, k = unroll(ep.days, dates.floor)
        if k < 0:  # (day -1 is 1999-12-31, a date: k says "refused")
            counts["bad_date"] = counts.get("bad_date", 0) + 1
        else:
            days = d
            if k:
                flags = FLAG_DATE_ROLLOVER
                counts["date_rollover"] = counts.get("date_rollover", 0) + 1
    if days == EMPTY:
        if dates.days == EMPTY:
            counts["no_date"] = counts.get("no_date", 0) + 1
            return None
        days = dates.days
        if ep.tod < dates.tod - _HALF_DAY_MS:  # past midnight since the last dated epoch
            days += 1
        flags |= FLAG_DATE_CARRIED
    if q > 0:
        dates.days = days
        dates.tod = ep.tod
    tod = ep.tod
    if tod >= _DAY_MS:  # a leap second
        tod = _DAY_MS - 1
    t = days * SECONDS_PER_DAY + tod // 1000
    acc = None
    if ep.gst_acc >= 0:
        acc = ep.gst_acc
        flags |= FLAG_ACC_GST
    elif ep.hdop_c >= 0:
        acc = (ep.hdop_c * uere_dm + 50) // 100
        flags |= FLAG_ACC_HDOP
    if ep.fixtype >= 0:
        sats = 0
        for n in ep.used:
            if n > 0:
                sats += n
    else:
        sats = ep.sats if ep.sats >= 0 else 0
    if sats > 127:  # the store keeps 7 bits (and refuses more): saturate, the position stands
        sats = 127
    mode = ep.fixtype if ep.fixtype >= 2 else 0
    return Fix(
        t,
        tod % 1000,
        ep.lat if q else None,
        ep.lon if q else None,
        None if ep.alt_dm == EMPTY else ep.alt_dm,
        None if ep.speed_cms == EMPTY else ep.speed_cms,
        None if ep.course_cd == EMPTY else ep.course_cd,
        acc,
        None if ep.hdop_c == EMPTY else ep.hdop_c,
        sats,
        q,
        mode,
        flags,
    )
