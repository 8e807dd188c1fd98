# Writes zone blobs (format in tagcore.zones.blob). The host compiler and the tests use it; the
# tag itself never does (host code: not in the firmware image).
import struct

from tagcore.zones import blob as B

DEFAULT_RULES = B.DEFAULT_RULES

# ---- the local frame's coefficients (tagcore.geo.project has the formulas) ----------------
_PI_Q30 = 3373259426  # pi x 2^30
_E2_Q30 = 7188002  # WGS84 first eccentricity squared x 2^30 (0.00669438)
_A_DM = 63781370  # WGS84 semi-major axis, dm
_ONE = 1073741824  # 1 in Q30


def _sincos_q30(lat):
    # sin, cos of a latitude in microdegrees, Q30, by their Taylor series.
    x = lat * _PI_Q30 // 180000000
    x2 = x * x >> 30
    s = 0
    c = 0
    term = x
    k = 1
    while term:
        s += term
        term = -(term * x2 >> 30) // ((k + 1) * (k + 2))
        k += 2
    term = _ONE
    k = 0
    while term:
        c += term
        term = -(term * x2 >> 30) // ((k + 1) * (k + 2))
        k += 2
    return s, c


def frame(lat0):
    """The coefficients of the tag's local frame around an anchor at latitude lat0
    (microdegrees, within 80 degrees), for tagcore.geo.project: 8 ints, each within int32."""
    s, c = _sincos_q30(lat0)
    # 1 / sqrt(w) and 1 / w for w = 1 - e2 s^2 by their series (e2 s^2 < 0.0067).
    es = _E2_Q30 * (s * s >> 30) >> 30
    inv_sqrt = 0
    inv = 0
    a = _ONE
    b = _ONE
    for j in range(6):
        inv_sqrt += a
        inv += b
        a = a * es * (2 * j + 1) // ((2 * j + 2) << 30)
        b = b * es >> 30
    # Radii in dm, Q4 (about 2^30).
    n = _A_DM * inv_sqrt >> 26  # N = a / sqrt(w)
    m = (n * (_ONE - _E2_Q30) >> 30) * inv >> 30  # M = N (1 - e2) / w
    dm = ((3 * m * (_E2_Q30 * s >> 30) >> 30) * c >> 30) * inv >> 30  # dM / dphi
    r = (m + n) >> 1
    rc = r * c >> 30
    return (
        _coef(n * c >> 30, 1, 28),  # x: N c
        _coef(m * s >> 30, 2, 52),  #    M s u
        _coef(rc, 3, 76, 3),  #    R c u^2 / 3
        _coef(rc * (s * s >> 30) >> 30, 3, 76, 6),  #    R c s^2 v^2 / 6
        _coef(m, 1, 28),  # y: M
        _coef(dm, 2, 52, 2),  #    M' u^2 / 2
        _coef((n * s >> 30) * c >> 30, 2, 52, 2),  #    N s c v^2 / 2
        _coef(r * ((c * c - 3 * s * s) >> 30) >> 30, 3, 80, 6),  #    R u v^2 (c^2 - 3 s^2) / 6
    )


def _coef(x, p, shift, div=1):
    # round(x k^p 2^shift / div) for x in dm Q4 (|x| < 2^30) and k = radians per microdegree
    # (pi / 180e6), keeping 30 significant bits at each step.
    neg = x < 0
    if neg:
        x = -x
    q = 4
    for _ in range(p):
        x = x * _PI_Q30 // 180000000
        q += 30
        while x >= 1073741824:  # x * pi stays a small int on a 64-bit port
            x >>= 1
            q -= 1
    d = shift - q
    if d >= 0:
        x = ((x << d) + (div >> 1)) // div
    else:
        den = div << -d
        x = (x + (den >> 1)) // den
    return -x if neg else x


def zone_record(zid, kind, shape, warn_m, lat0, lon0, r_dm, windows, rings, rules=(), tz=None):
    """One zone record. windows: [(start, end)] UTC seconds since 2000; rings: [[(lat, lon)]]
    in microdegrees (polygon: outline first, then holes, no closing vertex; corridor: one
    polyline; circle: none); rules: [(days mask, start s, end s)] weekly local-time rules
    (tagcore.zones.curfew) with tz: (offset before the first change, [(UTC instant, offset)])."""
    parts = []
    for s, e in windows:
        parts.append(struct.pack("<II", s, e))
    changes = []
    if rules:
        for d, s, e in rules:
            parts.append(struct.pack("<III", d, s, e))
        base, changes = tz
        parts.append(struct.pack("<i", base))
        for t, off in changes:
            parts.append(struct.pack("<Ii", t, off))
    for ring in rings:
        parts.append(struct.pack("<H", len(ring)))
        for lat, lon in ring:
            parts.append(struct.pack("<ii", lat, lon))
    body = b"".join(parts)
    head = struct.pack(
        B.REC_FMT,
        B.REC_LEN + len(body),
        zid,
        kind,
        shape,
        warn_m,
        lat0,
        lon0,
        r_dm,
        len(windows),
        len(rings),
        len(rules),
        len(changes),
    )
    return head + struct.pack("<8i", *frame(lat0)) + body


def blob(records, valid_from, valid_until, rules=DEFAULT_RULES, flags=0, signature=b""):
    """A complete blob (bytearray) holding the zone records, with its CRC filled in."""
    body = b"".join(records)
    head = struct.pack(
        B.HEADER_FMT,
        B.MAGIC,
        B.VERSION,
        flags,
        len(records),
        valid_from,
        valid_until,
        len(body),
        0,
        *rules,
        0,
    )
    sig = signature + bytes(B.SIG_LEN - len(signature))
    out = bytearray(head + sig + body)
    struct.pack_into("<I", out, 20, B.crc(out))
    return out
