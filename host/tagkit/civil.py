# Day numbers back to calendar dates (the inverse of tagcore.gnss.epoch.days_from_civil). The
# tag itself never needs this (it compares day numbers); host tools and tests use it.


def civil_from_days(n):
    """(year, month, day) for days since 2000-01-01."""
    n += 730425
    era = (n if n >= 0 else n - 146096) // 146097
    doe = n - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d
