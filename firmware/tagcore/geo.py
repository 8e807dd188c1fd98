# Integer geometry helpers shared by the fix filter and the zone checks.
# Positions are microdegrees; local offsets are decimetres on a sphere of radius 6,371,000 m
# (R_EARTH_DM; IUGG's mean radius 6,371,008.8 m is 1.4 ppm larger), equirectangular around an
# anchor. The host's float form of the same sphere is taghost.units.M_PER_DEG. All arithmetic
# is integer, so results are the same on the ESP32 (32-bit floats) and on CPython.
from tagcore.compat import const

# cos(d degrees) * 32768 for d = 0..90, big-endian 16-bit: bytes cost no heap per entry.
# Linear interpolation between entries is good to 4e-5.
_COS_Q15 = (
    b"\x80\x00\x7f\xfb\x7f\xec\x7f\xd3\x7f\xb0\x7f\x83\x7f\x4c\x7f\x0c\x7e\xc1\x7e\x6d\x7e\x0e\x7d\xa6"
    b"\x7d\x34\x7c\xb8\x7c\x33\x7b\xa3\x7b\x0b\x7a\x68\x79\xbc\x79\x07\x78\x48\x77\x80\x76\xae\x75\xd3"
    b"\x74\xef\x74\x02\x73\x0c\x72\x0d\x71\x04\x6f\xf4\x6e\xda\x6d\xb8\x6c\x8d\x6b\x5a\x6a\x1e\x68\xda"
    b"\x67\x8e\x66\x3a\x64\xde\x63\x7a\x62\x0e\x60\x9a\x5f\x1f\x5d\x9d\x5c\x13\x5a\x82\x58\xeb\x57\x4c"
    b"\x55\xa6\x53\xfa\x52\x47\x50\x8e\x4e\xce\x4d\x08\x4b\x3d\x49\x6b\x47\x94\x45\xb7\x43\xd4\x41\xed"
    b"\x40\x00\x3e\x0e\x3c\x18\x3a\x1c\x38\x1d\x36\x18\x34\x10\x32\x03\x2f\xf3\x2d\xdf\x2b\xc7\x29\xac"
    b"\x27\x8e\x25\x6c\x23\x48\x21\x21\x1e\xf7\x1c\xcb\x1a\x9d\x18\x6c\x16\x3a\x14\x06\x11\xd0\x0f\x99"
    b"\x0d\x61\x0b\x28\x08\xee\x06\xb3\x04\x78\x02\x3c\x00\x00"
)


# Decimetres per microdegree along a meridian: 1.1119493 = 11119493 / 10**7 (pi R / 180).
R_EARTH_DM = const(63710000)
DM_PER_UDEG_NUM = const(11119493)
DM_PER_UDEG_DEN = const(10000000)
UDEG_PER_DEG = const(1000000)


def cos_q15(lat):
    """cos(latitude) * 32768 for a latitude in microdegrees (integer, interpolated)."""
    if lat < 0:
        lat = -lat
    if lat >= 90 * UDEG_PER_DEG:
        return 0
    d = lat // UDEG_PER_DEG
    frac = lat - d * UDEG_PER_DEG
    t = _COS_Q15
    a = (t[2 * d] << 8) | t[2 * d + 1]
    b = (t[2 * d + 2] << 8) | t[2 * d + 3]
    return a - ((a - b) * frac + UDEG_PER_DEG // 2) // UDEG_PER_DEG


def udeg_to_dm(d):
    """A north-south distance in microdegrees to decimetres (rounded to nearest)."""
    if d < 0:
        return -((-d * DM_PER_UDEG_NUM + DM_PER_UDEG_DEN // 2) // DM_PER_UDEG_DEN)
    return (d * DM_PER_UDEG_NUM + DM_PER_UDEG_DEN // 2) // DM_PER_UDEG_DEN


def lon_delta(lon, lon0):
    """lon - lon0 in microdegrees, wrapped to [-180, 180) degrees (antimeridian safe)."""
    d = lon - lon0
    if d >= 180 * UDEG_PER_DEG:
        d -= 360 * UDEG_PER_DEG
    elif d < -180 * UDEG_PER_DEG:
        d += 360 * UDEG_PER_DEG
    return d


def offset_dm(lat0, lon0, cos0, lat, lon):
    """(east, north) offset of (lat, lon) from the anchor (lat0, lon0) in decimetres.

    cos0 is cos_q15(lat0), computed once per anchor by the caller.
    """
    north = udeg_to_dm(lat - lat0)
    east = (udeg_to_dm(lon_delta(lon, lon0)) * cos0 + 16384) >> 15
    return east, north


def isqrt(n):
    """Integer square root (floor) of a non-negative int, by Newton's method."""
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def dist_dm(lat0, lon0, lat, lon):
    """Distance in decimetres between two nearby points (equirectangular at their mid-latitude)."""
    east, north = offset_dm(lat0, lon0, cos_q15((lat0 + lat) >> 1), lat, lon)
    return isqrt(east * east + north * north)


# ---- the zones' local frame on the WGS84 ellipsoid ------------------------------------------
# An azimuthal-equidistant-like frame around an anchor, to third order in the offset: x east,
# y north, decimetres. Against the WGS84 geodesic (pyproj) it keeps distances from the anchor
# within 1 cm up to 27 km out at any latitude within 80 degrees, and local distances within
# 1 mm (tests/test_zones_geodesic.py). With u, v the offsets in radians and s, c the sine and
# cosine of the anchor's latitude, M, N its meridional and prime-vertical radii, R their mean:
#   x = v (N c - M s u - R c u^2 / 3 - R c s^2 v^2 / 6)
#   y = M u + M' u^2 / 2 + N s c v^2 / 2 + R u v^2 (c^2 / 6 - s^2 / 2)
# The host computes the coefficients once per anchor, in integers to 1e-9
# (tagkit.zonewrite.frame), and ships them in the zone's record: the same frame on every
# runtime and float width, no load-time trigonometry on the tag; projecting a point is a few
# integer products.
def project(fr, du, dv):
    """(x east, y north) in dm of a point du, dv microdegrees north and east of the anchor
    whose frame() is fr. Every intermediate stays within 2^62 for offsets within 30 km."""
    uu = du * du >> 12
    vv = dv * dv >> 12
    sx = fr[0] - (fr[1] * du >> 24) - (fr[2] * uu >> 36) - (fr[3] * vv >> 36)
    x = (dv * sx + 134217728) >> 28
    y = fr[4] * du + (fr[5] * uu >> 12) + (fr[6] * vv >> 12) + ((fr[7] * du >> 16) * vv >> 24)
    return x, (y + 134217728) >> 28
