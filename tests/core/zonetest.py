# Helpers for the zone core tests (both runtimes): zones and fixes placed in metres around a
# point in London, blobs built with the same writer the host compiler uses.
from tagcore.fix import Fix
from tagcore.geo import project
from tagcore.zones import blob as B
from tagcore.zones.monitor import ZoneMonitor
from tagkit import zonewrite as W
from tagkit.zonewrite import frame

LAT0 = 51500000
LON0 = -120000
T0 = 848000000  # 2026-11-16
EXCL = B.KIND_EXCLUSION
INCL = B.KIND_INCLUSION


_FRAME = [None, None]  # the last anchor latitude and its frame


def udeg(x_m, y_m, lat0=LAT0, lon0=LON0):
    """(lat, lon) in microdegrees of the point x_m east, y_m north of (lat0, lon0): the
    microdegrees that the tag's own local frame (tagcore.geo.project) puts there, by Newton."""
    if _FRAME[0] != lat0:
        _FRAME[0] = lat0
        _FRAME[1] = frame(lat0)
    fr = _FRAME[1]
    x = round(x_m * 10)
    y = round(y_m * 10)
    du = (y << 28) // fr[4]
    dv = (x << 28) // fr[0]
    for _ in range(8):
        px, py = project(fr, du, dv)
        if px == x and py == y:
            break
        # dx/dv is about the x scale, dy/du the y scale (the cross terms are small here).
        du += _div((y - py) << 28, fr[4])
        dv += _div((x - px) << 28, fr[0] - (fr[1] * du >> 24))
    return lat0 + du, lon0 + dv


def _div(a, b):
    # a / b rounded half away from zero, at least one step when a is not zero.
    q = (abs(a) + abs(b) // 2) // abs(b) or (1 if a else 0)
    return q if (a < 0) == (b < 0) else -q


def ring_m(pts, lat0=LAT0, lon0=LON0):
    return [udeg(x, y, lat0, lon0) for x, y in pts]


def box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def square(zid, half_m, kind=EXCL, warn_m=50, windows=(), holes=(), lat0=LAT0, lon0=LON0):
    rings = [ring_m(box(-half_m, -half_m, half_m, half_m), lat0, lon0)]
    for h in holes:
        rings.append(ring_m(h, lat0, lon0))
    return W.zone_record(zid, kind, B.SHAPE_POLYGON, warn_m, lat0, lon0, 0, list(windows), rings)


def circle(zid, r_m, kind=EXCL, warn_m=50, windows=(), lat0=LAT0, lon0=LON0):
    return W.zone_record(zid, kind, B.SHAPE_CIRCLE, warn_m, lat0, lon0, r_m * 10, list(windows), [])


def corridor(zid, pts_m, half_m, kind=INCL, warn_m=20, windows=()):
    return W.zone_record(
        zid, kind, B.SHAPE_CORRIDOR, warn_m, LAT0, LON0, half_m * 10, list(windows), [ring_m(pts_m)]
    )


def blob(*records, rules=None, valid_from=T0 - 86400, valid_until=T0 + 28 * 86400):
    return W.blob(list(records), valid_from, valid_until, rules or W.DEFAULT_RULES)


def monitor(*records, rules=None, **kw):
    m = ZoneMonitor(blob(*records, rules=rules, **kw))
    assert m.error is None, m.error
    return m


def fx(t, x_m, y_m, acc_m=5, ms=0, speed=None, course=None):
    """A fix at (x_m, y_m) metres; speed in m/s and course in degrees unknown unless given."""
    lat, lon = udeg(x_m, y_m)
    v = None if speed is None else round(speed * 100)
    c = None if course is None else round(course * 100) % 36000
    return Fix(t, ms, lat, lon, 100, v, c, acc_m * 10, 100, 8, 1, 3, 0)


def kinds(alerts):
    return [a.kind for a in alerts]


def walk(m, pts, t=T0, dt=15, acc_m=5):
    """Feed fixes at (x, y) metres every dt seconds; returns [(t, alerts)] of non-empty ones."""
    got = []
    for x, y in pts:
        a = m.on_fix(t, fx(t, x, y, acc_m))
        if a:
            got.append((t, a))
        t += dt
    return got
