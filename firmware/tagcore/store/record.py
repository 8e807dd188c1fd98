# Binary records of the flash log: frames holding a batch of fixes or one event.
#
# Frame (little endian):  0xA7 | kind u8 | plen u16 | seq u32 | payload[plen] | crc32 u32
# The CRC covers kind..payload. `seq` is the sequence number of the frame's first record.
# FIXES payload: count u8 | stride u8 | fix0 (full) | fix1..n (delta against the previous fix).
#   The fixes carry seq, seq+stride, seq+2*stride...; stride is 1 when written and doubles each
#   time the store thins the batch (keeps every other fix), so the gaps say exactly what went.
# Event payload: t (zigzag varint) | data bytes: each kind's data layout and codec is in
# tagcore.events (encode / decode), the one place that says what the bytes mean.
# Every field of a fix is a zigzag varint, so any int value round-trips; a fix is ~8-14 bytes.
import binascii

from tagcore.compat import const
from tagcore.fix import Fix

MAGIC = const(0xA7)
HEADER = const(8)
OVERHEAD = const(12)  # header + crc
MAX_PAYLOAD = const(65535)

KIND_FIXES = const(1)
# Store-internal frame, not a record (read() never serves it): written into a merged segment, in
# the same atomic rename, so that thinning never hides what the segment covered or what went.
# seq field: the highest sequence number the segment's records ever had; payload: tagcore.events
# Mark (total fixes thinned since the log began, cumulative; lo, hi: the range thinned since
# the last EV_THINNED). Recovery logs an EV_THINNED for a total above the last logged one.
# Every event's data is a tagcore.events record: the comments name it.
KIND_MARK = const(2)
# Store-internal, never in a segment: the one frame of the floor file (tagcore.store.log FLOOR).
# seq field: no seq at or above it has been handed out; empty payload.
KIND_FLOOR = const(3)
# Events (kind >= EV_FIRST): every event is its own frame and durable when append returns.
EV_FIRST = const(16)
EV_ZONE = const(16)  # events.Alert: A_BREACH / A_BREACH_END / A_CONFIG_EXPIRED of a zone
EV_PROXIMITY = const(17)  # a tagcore.proximity.monitor decision (events.decode delegates)
EV_TAMPER = const(18)  # events.Tamper: code u8
EV_LOW_BATTERY = const(19)  # events.LowBattery: percent u8
EV_LOC_LOST = const(20)  # events.Alert: A_LOC_LOST / A_LOC_BACK, seconds without a fix
EV_LINK_LOST = const(21)  # no codec yet: nothing writes it
EV_STATUS = const(22)  # no codec yet: free-form data
EV_THINNED = const(23)  # events.Thinned: count, first seq, last seq, cumulative total
EV_BOOT = const(24)  # events.Boot: no data
# events.Dropped: count, first seq, last seq, carried, total of segments given up when full:
# `count` records of the caller's, and `carried` more that EV_THINNED / EV_DROPPED records given
# up with them had accounted for; `total` the highest EV_THINNED total among those.
EV_DROPPED = const(25)
# The store's seal of the records written since the previous one (tagcore.store.seal.Seal:
# events.decode delegates to seal.parse; docs/evidence.md).
EV_SEAL = const(26)
# events.Power: the battery budget (tagcore.app.budget): what u8 (POWER_LEVEL the plan's level
# changed, POWER_LOW, POWER_CRITICAL warnings), u8 level, u16 little-endian projected life in
# minutes (capped).
EV_POWER = const(27)
# events.Integrity: kind u8 (tagcore.gnss.integrity K_*), then its evidence as zigzag varints;
# t: the episode's onset. Kinds below K_END are circumvention alerts (jamming, shielding,
# spoofing); K_END and K_MORE (another detector on an episode already alerted) are evidence.
EV_INTEGRITY = const(28)


def kept_kind(kind):
    # Alerts: events the store never gives up to make room.
    return (
        kind == EV_ZONE
        or kind == EV_PROXIMITY
        or kind == EV_TAMPER
        or kind == EV_LOC_LOST
        or kind == EV_INTEGRITY
    )


# Nullable fields of a fix, in encoding order, and their bit in the presence mask.
_NULLABLE = (4, 5, 6, 7, 8)  # alt_dm, speed_cms, course_cd, acc_dm, hdop_c


def zz(n):
    return (n << 1) if n >= 0 else ((-n << 1) - 1)


def unzz(u):
    return (u >> 1) if not (u & 1) else -((u + 1) >> 1)


def put_varint(out, u):
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)


def varints(vals):
    """A bytearray of the unsigned ints `vals` as varints: the data of the store's own
    accounts (tagcore.events Thinned, Dropped, Mark)."""
    out = bytearray()
    for u in vals:
        put_varint(out, u)
    return out


def varint_len(u):
    n = 1
    while u >= 0x80:
        u >>= 7
        n += 1
    return n


def skip_varint(b, i, end):
    # Index after the varint at b[i], or -1 if it is truncated or too long; allocates nothing.
    n = 0
    while i < end and n < 10:
        c = b[i]
        i += 1
        if not (c & 0x80):
            return i
        n += 1
    return -1


def get_varint(b, i, end):
    # Returns (value, next index); raises IndexError/ValueError on truncation (callers catch).
    u = 0
    shift = 0
    while True:
        if i >= end or shift > 63:
            raise ValueError("varint")
        c = b[i]
        i += 1
        u |= (c & 0x7F) << shift
        if not (c & 0x80):
            return u, i
        shift += 7


def _misc(f):
    # sats in the low bits: between consecutive fixes usually only they change (XOR < 128).
    m = 0
    for k in range(5):
        if f[_NULLABLE[k]] is not None:
            m |= 1 << k
    sats = f[9] if 0 <= f[9] < 128 else 127
    return sats | (m << 7) | ((f[10] & 0xF) << 12) | ((f[11] & 3) << 16) | ((f[12] & 0xFFFF) << 18)


def encode_fix(out, f, prev, pmisc):
    """Append one fix: in full if `prev` is None, else as deltas against `prev` (whose misc word
    is `pmisc`). Returns this fix's misc word, for the next call."""
    misc = _misc(f)
    if prev is None:
        put_varint(out, zz(f[0]))
        put_varint(out, zz(f[1]))
        put_varint(out, zz(f[2]))
        put_varint(out, zz(f[3]))
        put_varint(out, misc)
        for k in _NULLABLE:
            if f[k] is not None:
                put_varint(out, zz(f[k]))
    else:
        put_varint(out, zz(f[0] - prev[0]))
        put_varint(out, zz(f[1]))
        put_varint(out, zz(f[2] - prev[2]))
        put_varint(out, zz(f[3] - prev[3]))
        put_varint(out, misc ^ pmisc)
        for k in _NULLABLE:
            v = f[k]
            if v is not None:
                p = prev[k]
                put_varint(out, zz(v - p) if p is not None else zz(v))
    return misc


def encode_fixes(fixes, out):
    """Append the fixes' encoding to bytearray `out` (first full, the rest as deltas)."""
    prev = None
    pmisc = 0
    for f in fixes:
        pmisc = encode_fix(out, f, prev, pmisc)
        prev = f
    return out


def decode_fixes(b, i, end, count):
    """Decode `count` fixes from b[i:end]; raises ValueError if the bytes do not hold them."""
    res = []
    prev = None
    pmisc = 0
    for _ in range(count):
        u, i = get_varint(b, i, end)
        t = unzz(u)
        u, i = get_varint(b, i, end)
        ms = unzz(u)
        u, i = get_varint(b, i, end)
        lat = unzz(u)
        u, i = get_varint(b, i, end)
        lon = unzz(u)
        u, i = get_varint(b, i, end)
        misc = u if prev is None else u ^ pmisc
        vals = [None, None, None, None, None]
        for k in range(5):
            if misc & (1 << (7 + k)):
                u, i = get_varint(b, i, end)
                v = unzz(u)
                if prev is not None:
                    p = prev[_NULLABLE[k]]
                    if p is not None:
                        v += p
                vals[k] = v
        if prev is not None:
            t += prev[0]
            lat += prev[2]
            lon += prev[3]
        f = Fix(
            t,
            ms,
            lat,
            lon,
            vals[0],
            vals[1],
            vals[2],
            vals[3],
            vals[4],
            misc & 0x7F,
            (misc >> 12) & 0xF,
            (misc >> 16) & 3,
            misc >> 18,
        )
        res.append(f)
        prev = f
        pmisc = misc
    if i != end:
        raise ValueError("trailing")
    return res


def fix_into(v, b, p, end, k, pmisc):
    """Decode the k-th fix of a fixes payload (its varints from b[p:end]) into the list v in
    place, over the previous fix's fields (k > 0: they are its deltas' base; pmisc its misc),
    as decode_fixes does without a Fix per fix: the uplink's batches and the seals walk frames
    with it in a heap that cannot give one. Returns (next index, misc); ValueError as
    get_varint."""
    u, p = get_varint(b, p, end)
    t = unzz(u)
    u, p = get_varint(b, p, end)
    v[1] = unzz(u)
    u, p = get_varint(b, p, end)
    lat = unzz(u)
    u, p = get_varint(b, p, end)
    lon = unzz(u)
    u, p = get_varint(b, p, end)
    misc = u if k == 0 else u ^ pmisc
    for j in range(5):
        f = _NULLABLE[j]
        if misc & (1 << (7 + j)):
            u, p = get_varint(b, p, end)
            x = unzz(u)
            if k and v[f] is not None:
                x += v[f]
            v[f] = x
        else:
            v[f] = None
    if k:
        t += v[0]
        lat += v[2]
        lon += v[3]
    v[0] = t
    v[2] = lat
    v[3] = lon
    v[9] = misc & 0x7F
    v[10] = (misc >> 12) & 0xF
    v[11] = (misc >> 16) & 3
    v[12] = misc >> 18
    return p, misc


def fix_error(f):
    """None if `f` is a fix the store keeps unchanged, else why not (a short reason)."""
    if not isinstance(f, tuple) or len(f) != 13:
        return "not a Fix"
    for k in range(13):
        v = f[k]
        if v is None and k in _NULLABLE:
            continue
        if not isinstance(v, int):
            return "field " + str(k) + " not an int"
    if not (0 <= f[9] < 128 and 0 <= f[10] < 16 and 0 <= f[11] < 4 and 0 <= f[12] < 0x10000):
        return "sats/quality/mode/flags out of range"
    return None


def payload_ok(b, i, ln):
    """True if a frame's payload decodes (checked without allocating: MemoryError is never
    taken for damage because nothing here can raise it on a small-int payload)."""
    kind = b[i + 1]
    p = i + HEADER
    end = i + ln - 4
    if kind == KIND_FIXES:
        if end - p < 2 or b[p + 1] < 1:
            return False
        count = b[p]
        p += 2
        mask = 0
        for k in range(count):
            # t, ms, lat, lon, then misc: its bits 7..11 say which nullable fields follow
            for _ in range(4):
                p = skip_varint(b, p, end)
                if p < 0:
                    return False
            q = skip_varint(b, p, end)
            if q < 0:
                return False
            m = b[p + 1] & 0x1F if q - p > 1 else 0
            mask = m if k == 0 else mask ^ m
            p = q
            for j in range(5):
                if mask & (1 << j):
                    p = skip_varint(b, p, end)
                    if p < 0:
                        return False
        return p == end
    if kind == KIND_MARK:
        for _ in range(3):
            p = skip_varint(b, p, end)
            if p < 0:
                return False
        return p == end
    return kind >= EV_FIRST and skip_varint(b, p, end) >= 0


def frame(kind, seq, payload):
    """A complete frame (bytes) for `payload`."""
    n = len(payload)
    b = bytearray(HEADER + n + 4)
    b[0] = MAGIC
    b[1] = kind
    b[2] = n & 0xFF
    b[3] = n >> 8
    b[4] = seq & 0xFF
    b[5] = (seq >> 8) & 0xFF
    b[6] = (seq >> 16) & 0xFF
    b[7] = (seq >> 24) & 0xFF
    b[HEADER : HEADER + n] = payload
    c = binascii.crc32(memoryview(b)[1 : HEADER + n]) & 0xFFFFFFFF
    b[HEADER + n] = c & 0xFF
    b[HEADER + n + 1] = (c >> 8) & 0xFF
    b[HEADER + n + 2] = (c >> 16) & 0xFF
    b[HEADER + n + 3] = c >> 24
    return b


def fixes_frame(seq, fixes, stride=1):
    p = bytearray((len(fixes), stride))
    encode_fixes(fixes, p)
    return frame(KIND_FIXES, seq, p)


def event_payload(t, data):
    p = bytearray()
    put_varint(p, zz(t))
    p.extend(data)
    return p


def check_frame(b, i, end):
    """Length of a valid frame at b[i], or 0 if there is none (bad magic, short, bad CRC)."""
    if end - i < OVERHEAD or b[i] != MAGIC:
        return 0
    n = b[i + 2] | (b[i + 3] << 8)
    j = i + HEADER + n
    if j + 4 > end:
        return 0
    c = b[j] | (b[j + 1] << 8) | (b[j + 2] << 16) | (b[j + 3] << 24)
    if binascii.crc32(memoryview(b)[i + 1 : j]) & 0xFFFFFFFF != c:
        return 0
    return HEADER + n + 4


def raw_frames(b):
    """Offsets of the frames in b whose CRC holds, in order, stepping a byte over anything else:
    the walk over a merge's or a compaction's buffer (clean segments' frames, every one of them
    taken by the scan), which copies frames rather than judging them. What a segment holds for
    the index is walked by tagcore.store.log.Store.frames (its seqs must continue the log)."""
    i = 0
    end = len(b)
    while i < end:
        ln = check_frame(b, i, end)
        if ln:
            yield i
            i += ln
        else:
            i += 1


def valid_at(b, j, end):
    """True if a sound frame (CRC and payload) starts at b[j]."""
    ln = check_frame(b, j, end)
    return ln > 0 and payload_ok(b, j, ln)


def damaged_len(b, i, end):
    """The bytes to pass over for a damaged frame at b[i] whose declared length ends at `end`
    or at a sound frame: the whole frame, since its data may hold frame-shaped bytes (a crafted
    event) that must not be taken for a record. 0 when its length cannot be trusted so (then
    step over one byte, or to the next sound frame)."""
    if b[i] != MAGIC or end - i < OVERHEAD:
        return 0
    j = i + frame_len(b, i)
    if j == end or (j < end and valid_at(b, j, end)):
        return j - i
    return 0


def frame_len(b, i):
    # the length of the frame at b[i] as its header says (a frame already checked)
    return OVERHEAD + (b[i + 2] | (b[i + 3] << 8))


def frame_kind(b, i):
    return b[i + 1]


def frame_seq(b, i):
    return b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24)


def frame_records(b, i, ln):
    """[(seq, kind, value)] of a valid frame: value is a Fix, or (t, data bytes) for an event.
    Raises ValueError if the payload does not decode (callers treat the frame as damaged)."""
    kind = b[i + 1]
    seq = frame_seq(b, i)
    p = i + HEADER
    end = i + ln - 4
    if kind == KIND_FIXES:
        if end - p < 2:
            raise ValueError("short")
        count = b[p]
        stride = b[p + 1]
        if stride < 1:
            raise ValueError("stride")
        fixes = decode_fixes(b, p + 2, end, count)
        return [(seq + k * stride, kind, fixes[k]) for k in range(count)]
    u, p = get_varint(b, p, end)
    return [(seq, kind, (unzz(u), bytes(b[p:end])))]


def frame_last_seq(b, i):
    # Sequence number of the frame's last record (without decoding the fixes).
    s = frame_seq(b, i)
    if b[i + 1] == KIND_FIXES and b[i + 2] | (b[i + 3] << 8) >= 2:
        n = b[i + HEADER]
        if n:
            s += (n - 1) * b[i + HEADER + 1]
    return s
