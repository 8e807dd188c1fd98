# The reader of a packed fix run (tagcore.uplink.fixcodec writes them; docs/uplink.md): the
# server's (taghost.server.wire) and the tests', on both runtimes. Its own module so that the tag,
# which only packs, never loads it.
from tagcore.store import record as R
from tagcore.uplink.fixcodec import _NULLABLE, CHANNELS, MAX_WIDTH


def _first(b, i, end):
    # The run's first fix in full (record.encode_fix with prev None): (Fix, misc, next index).
    u, i = R.get_varint(b, i, end)
    t = R.unzz(u)
    u, i = R.get_varint(b, i, end)
    ms = R.unzz(u)
    u, i = R.get_varint(b, i, end)
    lat = R.unzz(u)
    u, i = R.get_varint(b, i, end)
    lon = R.unzz(u)
    misc, i = R.get_varint(b, i, end)
    vals = [None, None, None, None, None]
    for k in range(5):
        if misc & (1 << (7 + k)):
            u, i = R.get_varint(b, i, end)
            vals[k] = R.unzz(u)
    return _fix(t, ms, lat, lon, vals, misc), misc, i


def _fix(t, ms, lat, lon, v, misc):
    return R.Fix(
        t,
        ms,
        lat,
        lon,
        v[0],
        v[1],
        v[2],
        v[3],
        v[4],
        misc & 0x7F,
        (misc >> 12) & 0xF,
        (misc >> 16) & 3,
        misc >> 18,
    )


def decode(b, count):
    """The `count` fixes of a packed run; raises ValueError if `b` is not exactly one."""
    end = len(b)
    if count < 1:
        raise ValueError("count")
    f, misc, i = _first(b, 0, end)
    out = [f]
    if count == 1:
        if i != end:
            raise ValueError("trailing")
        return out
    u, i = R.get_varint(b, i, end)
    pdt = R.unzz(u)
    if end - i < CHANNELS:
        raise ValueError("short")
    w = [b[i + j] for j in range(CHANNELS)]
    for x in w:
        if x > MAX_WIDTH:
            raise ValueError("width")
    pos = (i + CHANNELS) * 8  # bit position
    endbit = end * 8

    def take(k):
        nonlocal pos
        if pos + k > endbit:
            raise ValueError("short")
        v = 0
        s = 0
        while s < k:
            byte = b[pos >> 3]
            off = pos & 7
            c = 8 - off
            if c > k - s:
                c = k - s
            v |= ((byte >> off) & ((1 << c) - 1)) << s
            s += c
            pos += c
        return v

    for _ in range(count - 1):
        p = out[-1]
        dt = pdt + R.unzz(take(w[0]))
        ms = p[1] + R.unzz(take(w[1]))
        lat = p[2] + R.unzz(take(w[2]))
        lon = p[3] + R.unzz(take(w[3]))
        misc ^= take(w[4])
        vals = [None, None, None, None, None]
        for k in range(5):
            if misc & (1 << (7 + k)):
                d = R.unzz(take(w[5 + k]))
                q = p[_NULLABLE[k]]
                vals[k] = q + d if q is not None else d
        out.append(_fix(p[0] + dt, ms, lat, lon, vals, misc))
        pdt = dt
    # Only zero padding may follow, within the last byte.
    if (endbit - pos) >= 8 or (pos < endbit and b[pos >> 3] >> (pos & 7)):
        raise ValueError("trailing")
    return out
