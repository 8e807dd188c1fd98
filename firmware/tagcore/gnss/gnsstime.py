# Civil dates as day numbers since 2000-01-01, and the GPS week-rollover rule.
# Integer arithmetic only (after H. Hinnant's days_from_civil), so no datetime on the device.
from tagcore.compat import const

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
