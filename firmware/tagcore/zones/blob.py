# The compiled zone configuration ("zone blob") the host writes and the tag loads.
# Little endian throughout. Layout (docs/zones.md has the table):
#
#   header (44 bytes)
#     0  4s magic b"OTZC"          4  u8 version (3)        5  u8 flags (FL_SIGNED)
#     6  u16 zone count            8  u32 valid_from       12  u32 valid_until (s since 2000)
#    16  u32 body length          20  u32 CRC-32 of every byte but itself and the signature area
#    24  u8 confirm_n  25 u8 exit_n  26 u16 confirm_s  28 u16 margin_dm  30 u16 hyst_dm
#    32  u16 sustain_s 34 u16 loc_warn_s 36 u16 loc_alert_s 38 u8 fast_s 39 u8 slow_s
#    40  u8 circle_k10  41 u16 jump_s  43 u8 reserved (zero)
#   signature area (64 bytes, outside the CRC; zero, and checked to be, unless FL_SIGNED says it
#   holds a signature; no other flag bit is accepted)
#   body: `zone count` zone records
#     u16 record length, u16 id, u8 kind, u8 shape, u16 warning ring (m),
#     i32 anchor lat, i32 anchor lon (microdegrees), u32 radius (dm: circle radius, corridor
#     half-width), u16 window count, u16 ring count, u16 rule count, u16 offset change count,
#     8 x i32 the local frame's coefficients (tagcore.geo.project; tagkit.zonewrite.frame),
#     windows: (u32 start, u32 end) UTC seconds since 2000, sorted, disjoint (one-off dates)
#     rules: (u32 days mask, u32 start, u32 end) weekly local-time rules (tagcore.zones.curfew)
#     time zone (only with rules): i32 offset (s) before the first change, then per change
#       (u32 UTC instant, i32 offset from then on), increasing: the zone's DST transitions
#     no windows and no rules: always active
#     rings: u16 point count, then (i32 lat, i32 lon) per point; a polygon's first ring is the
#     outline and the others holes (no closing vertex); a corridor has one ring, its centre line.
#
# parse() checks everything the geometry relies on and raises ValueError(reason) for anything
# else; ZoneMonitor.load turns that into a returned reason, so a bad blob never crashes the tag.
import binascii
import struct
from array import array
from collections import namedtuple

from tagcore.compat import const
from tagcore.geo import cos_q15, lon_delta, project

MAGIC = b"OTZC"
VERSION = const(3)  # 3: weekly rules and DST transitions; 1: expanded windows only (2: never)
FL_SIGNED = const(1)
HEADER_LEN = const(44)
SIG_LEN = const(64)
BODY_AT = const(108)  # HEADER_LEN + SIG_LEN
HEADER_FMT = "<4sBBHIIIIBBHHHHHHBBBHB"
REC_FMT = "<HHBBHiiIHHHH"
FRAME_AT = const(28)  # the local frame's 8 coefficients (i32) follow REC_FMT's fields
REC_LEN = const(60)  # the fixed part: REC_FMT and the frame

KIND_EXCLUSION = const(1)
KIND_INCLUSION = const(2)
SHAPE_CIRCLE = const(1)
SHAPE_POLYGON = const(2)
SHAPE_CORRIDOR = const(3)

# Limits the device accepts (the host validator refuses the same things with friendlier words).
MAX_ZONES = const(1000)
MAX_RINGS = const(64)
MAX_POINTS = const(4000)
MAX_WINDOWS = const(4000)
MAX_RULES = const(64)
MAX_CHANGES = const(400)  # offset changes: twice a year for 200 years
MAX_OFFSET_S = const(64800)  # UTC offsets within +-18 h
MAX_LAT = const(80000000)  # zones must stay within +-80 degrees: the local frame needs cos > 0.17
MAX_EXTENT_DM = const(250000)  # 25 km from the anchor: local-frame distance error < 0.5 % at 60N
MAX_RADIUS_DM = const(200000)  # 20 km
MIN_RADIUS_DM = const(10)  # 1 m
MAX_WARN_M = const(5000)
SMALL_DM = const(32000)  # a zone within +-3.2 km of its anchor stores its vertices as int16

# Header fields 8..17, in order: the confirmation rule and sampling intervals (docs/zones.md).
R_CONFIRM_N = const(0)  # consecutive qualifying fixes that confirm a breach
R_EXIT_N = const(1)  # consecutive clear fixes that end one
R_CONFIRM_S = const(2)  # ... spanning at least this many seconds (both)
R_MARGIN_DM = const(3)  # a qualifying fix's accuracy circle is inside the zone by this much
R_HYST_DM = const(4)  # an exit fix's accuracy circle is outside the zone by this much
R_SUSTAIN_S = const(5)  # centre inside on every fix for this long also confirms
R_LOC_WARN_S = const(6)  # awake without a valid fix this long: warn the wearer
R_LOC_ALERT_S = const(7)  # ... this long: alert
R_FAST_S = const(8)  # sampling interval near or in a zone
R_SLOW_S = const(9)  # sampling interval elsewhere
R_CIRCLE_K10 = const(10)  # a qualifying fix's circle is this many tenths of its accuracy radius
R_JUMP_S = const(11)  # a stretch entered by an unexplained jump must last this long after it
DEFAULT_RULES = (3, 3, 30, 50, 100, 180, 600, 1200, 15, 60, 20, 150)
N_RULES = const(12)
RULES_AT = const(8)  # the header's field index of confirm_n: rules(h) is h[8:20]

# The header's fields in HEADER_FMT order (the layout above).
Header = namedtuple(
    "Header",
    (
        "magic",
        "version",
        "flags",
        "count",
        "valid_from",
        "valid_until",
        "body_len",
        "crc",
        "confirm_n",
        "exit_n",
        "confirm_s",
        "margin_dm",
        "hyst_dm",
        "sustain_s",
        "loc_warn_s",
        "loc_alert_s",
        "fast_s",
        "slow_s",
        "circle_k10",
        "jump_s",
        "reserved",
    ),
)


def rules(h):
    """The confirmation rule and intervals of header h, indexed by R_*."""
    return tuple(h[RULES_AT : RULES_AT + N_RULES])


class Zone:
    """One zone: geometry in its local frame, schedule, and the monitor's per-zone state."""

    def __init__(self, zid, kind, shape, warn_dm, lat0, lon0, r_dm, rings, win, fr):
        self.id = zid
        self.kind = kind
        self.shape = shape
        self.warn_dm = warn_dm
        self.lat0 = lat0
        self.lon0 = lon0
        self.fr = fr  # the local frame's coefficients (tagcore.geo.project)
        self.r_dm = r_dm
        self.rings = rings  # list of arrays of interleaved x, y (dm)
        self.win = win  # array of start, end pairs (UTC), or None
        self.rules = None  # array of (days, start, end) weekly local rules, or None
        self.tz = None  # array [offset, t1, offset1, ...]: the rules' UTC offsets
        self.ext = (0, 0, 0, 0)  # local bounding box of the shape: xmin, ymin, xmax, ymax (dm)
        # ... and in microdegrees, of its vertices (a circle: its centre): lat, lon min, max.
        self.bbu = (lat0, lon0, lat0, lon0)
        # The monitor's (tagcore.zones.monitor): evidence so far, first fix of the stretch.
        self.ev = []  # type: list
        self.first = None
        self.cap = 0  # decision range (dm): distances beyond it saturate


def _u16(b, i):
    return b[i] | (b[i + 1] << 8)


def crc(blob):
    """CRC-32 over the blob except the CRC field and the signature area."""
    mv = memoryview(blob)
    c = binascii.crc32(mv[0:20])
    c = binascii.crc32(mv[24:HEADER_LEN], c)
    return binascii.crc32(mv[BODY_AT:], c) & 0xFFFFFFFF


def parse_header(blob):
    """The blob's Header; raises ValueError(reason) if it is not a valid one."""
    if len(blob) < BODY_AT:
        raise ValueError("short_header")
    h = Header(*struct.unpack_from(HEADER_FMT, blob, 0))
    if h.magic != MAGIC:
        raise ValueError("bad_magic")
    if h.version != VERSION:
        # A version 1 blob carries weeks of windows that run out: recompile it.
        raise ValueError("old_version" if h.version == 1 else "bad_version")
    if h.body_len != len(blob) - BODY_AT:
        raise ValueError("bad_length")
    if h.crc != crc(blob):
        raise ValueError("bad_crc")
    if h.flags & ~FL_SIGNED:
        raise ValueError("bad_flags")  # a flag this tag does not know: not ignored
    if not h.flags & FL_SIGNED and any(memoryview(blob)[HEADER_LEN:BODY_AT]):
        # The CRC leaves the signature area out (a signer fills it in last); unsigned, it
        # must be zero, so every byte of the blob is checked.
        raise ValueError("bad_signature_area")
    if h.count > MAX_ZONES:
        raise ValueError("too_many_zones")
    if h.valid_until < h.valid_from:
        raise ValueError("bad_validity")
    # confirm_n, exit_n >= 1, fast <= slow, warn <= alert: anything else is a broken config.
    if not h.confirm_n or not h.exit_n or not h.fast_s or h.fast_s > h.slow_s:
        raise ValueError("bad_rules")
    if h.loc_warn_s > h.loc_alert_s or h.loc_warn_s == 0:
        raise ValueError("bad_rules")
    if h.circle_k10 < 10 or h.circle_k10 > 40 or h.jump_s < h.confirm_s:
        raise ValueError("bad_rules")
    return h


def _ring(blob, i, end, lat0, lon0, fr, ext, bbu):
    """Parse one ring at blob[i]; returns (array of x, y in dm, next index).
    The points are copied from the blob in one piece (the tag is little endian, like the
    format) and projected in place: no allocation per point, so loading a big config does not
    leave the heap riddled with small holes."""
    if i + 2 > end:
        raise ValueError("truncated")
    n = _u16(blob, i)
    i += 2
    if n > MAX_POINTS:
        raise ValueError("too_many_points")
    if i + 8 * n > end:
        raise ValueError("truncated")
    xy = array("i", blob[i : i + 8 * n])
    for k in range(0, 2 * n, 2):
        lat = xy[k]
        lon = xy[k + 1]
        if lat > MAX_LAT or lat < -MAX_LAT:
            raise ValueError("near_pole")
        if lon > 180000000 or lon < -180000000 or lon - lon0 != lon_delta(lon, lon0):
            raise ValueError("antimeridian")
        x, y = project(fr, lat - lat0, lon - lon0)
        if lat < bbu[0]:
            bbu[0] = lat
        if lon < bbu[1]:
            bbu[1] = lon
        if lat > bbu[2]:
            bbu[2] = lat
        if lon > bbu[3]:
            bbu[3] = lon
        xy[k] = x
        xy[k + 1] = y
        if x < ext[0]:
            ext[0] = x
        if y < ext[1]:
            ext[1] = y
        if x > ext[2]:
            ext[2] = x
        if y > ext[3]:
            ext[3] = y
    return xy, i + 8 * n


# Bounds on the frame's coefficients over latitudes within 80 degrees (tagkit.zonewrite.frame
# computes them): a corrupt frame is refused, so a distance can only be as wrong as a valid
# frame at some latitude would make it.
_FRAME_MAX = (300000000, 90000000, 9000000, 2000000, 300000000, 500000, 22000000, 250000000)


def _check_frame(fr, lat0):
    for k in range(8):
        if fr[k] > _FRAME_MAX[k] or fr[k] < -_FRAME_MAX[k]:
            raise ValueError("bad_frame")
    # M (the y scale) is 6,335-6,400 km; N cos(lat) / M is cos(lat) x 1.000-1.007.
    if not 296000000 <= fr[4] <= 300000000:
        raise ValueError("bad_frame")
    c = cos_q15(lat0)
    est = fr[4] * c
    if fr[0] * 32768 < est - (est >> 7) or fr[0] * 32768 > est + (est >> 6):
        raise ValueError("bad_frame")


def _rules(blob, j, end, nrule, nchg):
    """A zone record's weekly rules and its time zone's offset changes at blob[j]
    (tagcore.zones.blob has the layout): (rules, tz, next index); ValueError(reason)."""
    if not nrule or nrule > MAX_RULES or nchg > MAX_CHANGES:
        raise ValueError("bad_rules")
    n = 12 * nrule + 4 + 8 * nchg
    if j + n > end:
        raise ValueError("truncated")
    rules = array("i", blob[j : j + 12 * nrule])
    for k in range(0, 3 * nrule, 3):
        s = rules[k + 1]
        e = rules[k + 2]
        if not 0 < rules[k] < 128 or not 0 <= s < 86400 or not 0 <= e < 86400 or s == e:
            raise ValueError("bad_rules")
    tz = array("i", blob[j + 12 * nrule : j + n])
    last = -1
    for k in range(len(tz)):
        v = tz[k]
        if k & 1:  # a change's instant: increasing
            if v <= last:
                raise ValueError("bad_time_zone")
            last = v
        elif v > MAX_OFFSET_S or v < -MAX_OFFSET_S:
            raise ValueError("bad_time_zone")
    return rules, tz, j + n


def _small(rings, ext):
    if ext[0] < -SMALL_DM or ext[1] < -SMALL_DM or ext[2] > SMALL_DM or ext[3] > SMALL_DM:
        return rings
    return [array("h", r) for r in rings]


def parse_zone(blob, i):
    """One zone record at blob[i]: (Zone, next index); raises ValueError(reason)."""
    if i + REC_LEN > len(blob):
        raise ValueError("truncated")
    ln, zid, kind, shape, warn_m, lat0, lon0, r_dm, nwin, nring, nrule, nchg = struct.unpack_from(
        REC_FMT, blob, i
    )
    end = i + ln
    if ln < REC_LEN or end > len(blob):
        raise ValueError("bad_record_length")
    if kind != KIND_EXCLUSION and kind != KIND_INCLUSION:
        raise ValueError("bad_kind")
    if warn_m > MAX_WARN_M:
        raise ValueError("bad_warning_ring")
    if lat0 > MAX_LAT or lat0 < -MAX_LAT:
        raise ValueError("near_pole")
    if lon0 > 180000000 or lon0 < -180000000:
        raise ValueError("bad_anchor")
    if nwin > MAX_WINDOWS or nring > MAX_RINGS:
        raise ValueError("too_big")
    fr = struct.unpack_from("<8i", blob, i + FRAME_AT)
    _check_frame(fr, lat0)
    j = i + REC_LEN
    win = None
    if nwin:
        if j + 8 * nwin > end:
            raise ValueError("truncated")
        win = array("i", blob[j : j + 8 * nwin])  # u32 read as i32: < 0 if too big
        last = -1
        for k in range(2 * nwin):
            v = win[k]
            if v <= last:
                raise ValueError("bad_windows")
            last = v
        j += 8 * nwin
    rules = tz = None
    if nrule or nchg:
        rules, tz, j = _rules(blob, j, end, nrule, nchg)
    ext = [0, 0, 0, 0]
    bbu = [lat0, lon0, lat0, lon0]
    rings = []
    for _ in range(nring):
        xy, j = _ring(blob, j, end, lat0, lon0, fr, ext, bbu)
        rings.append(xy)
    if j != end:
        raise ValueError("bad_record_length")
    if shape == SHAPE_CIRCLE:
        if nring:
            raise ValueError("bad_shape")
    elif shape == SHAPE_POLYGON:
        if not nring or r_dm:
            raise ValueError("bad_shape")
        for r in rings:
            if len(r) < 6:
                raise ValueError("too_few_points")
    elif shape == SHAPE_CORRIDOR:
        if nring != 1 or len(rings[0]) < 4:
            raise ValueError("bad_shape")
    else:
        raise ValueError("bad_shape")
    if shape != SHAPE_POLYGON and (r_dm < MIN_RADIUS_DM or r_dm > MAX_RADIUS_DM):
        raise ValueError("bad_radius")
    r = r_dm
    ext = [ext[0] - r, ext[1] - r, ext[2] + r, ext[3] + r]
    for v in ext:
        if v > MAX_EXTENT_DM or v < -MAX_EXTENT_DM:
            raise ValueError("too_large")
    z = Zone(zid, kind, shape, warn_m * 10, lat0, lon0, r_dm, _small(rings, ext), win, fr)
    z.ext = (ext[0], ext[1], ext[2], ext[3])
    z.bbu = (bbu[0], bbu[1], bbu[2], bbu[3])
    z.rules = rules
    z.tz = tz
    return z, end


def parse(blob):
    """(header tuple, [Zone]) of a blob; raises ValueError(reason) if it is not a valid one."""
    h = parse_header(blob)
    return h, parse_zones(blob, h)


def parse_zones(blob, h):
    """The zones of a blob whose header parse_header returned as h."""
    zones = []
    i = BODY_AT
    for _ in range(h.count):
        z, i = parse_zone(blob, i)
        zones.append(z)
    if i != len(blob):
        raise ValueError("bad_length")
    return zones
