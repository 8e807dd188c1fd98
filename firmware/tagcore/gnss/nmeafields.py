# Allocation-free parsers for NMEA fields. Each takes the buffer and the field's [a, b) bounds and
# returns a small int, or EMPTY / BAD. No slicing, no int()/float() on substrings: on the device
# this is what keeps a sentence under a few hundred bytes of allocation.
from tagcore.compat import IS_MICROPYTHON, const

EMPTY = const(-1073741000)  # the field was empty
BAD = const(-1073741001)  # the field held something that is not a valid value
_MAXV = const(999999999)  # parsed magnitudes stay below 2**30: a small int on 32-bit ports


def dec(buf, a, b, nd):
    """[-+]digits[.digits] in buf[a:b] as an int scaled by 10**nd, rounded half up."""
    if a >= b:
        return EMPTY
    neg = False
    c = buf[a]
    if c == 45:  # '-'
        neg = True
        a += 1
    elif c == 43:  # '+'
        a += 1
    v = 0
    frac = -1  # digits kept after the point; -1 = no point seen yet
    rnd = 0
    ndig = 0
    while a < b:
        c = buf[a]
        a += 1
        if 48 <= c <= 57:
            ndig += 1
            if frac < 0:
                v = v * 10 + c - 48
            elif frac < nd:
                v = v * 10 + c - 48
                frac += 1
            else:
                if frac == nd and c >= 53:
                    rnd = 1
                frac = nd + 1  # further digits only decided the rounding
                continue
            if v > _MAXV:
                return BAD
        elif c == 46 and frac < 0:  # '.'
            frac = 0
        else:
            return BAD
    if ndig == 0:
        return BAD
    if frac < 0:
        frac = 0
    while frac < nd:
        v *= 10
        frac += 1
        if v > _MAXV:
            return BAD
    v += rnd
    return -v if neg else v


def latlon(buf, a, b, hemi, max_deg):
    """NMEA (d)ddmm.mmmm with hemisphere letter code `hemi` to microdegrees.

    Minutes keep 5 decimals (rounded), so the result is within 0.6 microdegree of the exact value.
    """
    if a >= b:
        return EMPTY
    p = buf.find(b".", a, b)
    if p < 0:
        p = b
    if p - a < 3:  # at least one degree digit and two minute digits
        return BAD
    deg = dec(buf, a, p - 2, 0)
    m5 = dec(buf, p - 2, b, 5)
    if deg < 0 or m5 < 0 or m5 >= 6000000 or deg > max_deg:
        return BAD
    v = deg * 1000000 + (m5 + 3) // 6
    if v > max_deg * 1000000:
        return BAD
    if hemi == 83 or hemi == 87:  # 'S', 'W'
        return -v
    if hemi == 78 or hemi == 69:  # 'N', 'E'
        return v
    return BAD


def tod_ms(buf, a, b):
    """hhmmss[.sss] to milliseconds of the day (a leap second 60 is allowed)."""
    if a >= b:
        return EMPTY
    if b - a < 6:
        return BAD
    hh = dec(buf, a, a + 2, 0)
    mm = dec(buf, a + 2, a + 4, 0)
    ss = dec(buf, a + 4, b, 3)
    if hh < 0 or mm < 0 or ss < 0 or hh > 23 or mm > 59 or ss >= 61000:
        return BAD
    if buf[a + 4] == 45 or buf[a + 4] == 43:  # a sign inside the seconds
        return BAD
    return (hh * 60 + mm) * 60000 + ss


def char(buf, a, b):
    """A one-character field as its byte value, 0 if empty, -1 if longer than one character."""
    if b - a == 1:
        return buf[a]
    return 0 if a >= b else -1


def hexdigit(buf, a, b):
    """A one-digit upper-case hex field (NMEA 4.11 system and signal IDs, 1..F) as 0..15,
    EMPTY if empty, BAD otherwise."""
    if a >= b:
        return EMPTY
    if b - a == 1:
        c = buf[a]
        if 48 <= c <= 57:
            return c - 48
        if 65 <= c <= 70:
            return c - 55
    return BAD


def hexbyte(buf, i):
    """Two hex digits (either case) at buf[i], buf[i+1] as 0..255, or -1."""
    v = 0
    for j in range(i, i + 2):
        c = buf[j]
        if 48 <= c <= 57:
            c -= 48
        elif 65 <= c <= 70:  # A-F
            c -= 55
        elif 97 <= c <= 102:  # a-f
            c -= 87
        else:
            return -1
        v = (v << 4) | c
    return v


def _xor_loop(buf, a, b):
    """XOR of buf[a:b], or -1 if any byte is not printable ASCII. Allocation-free."""
    x = 0
    for i in range(a, b):
        c = buf[i]
        if c < 32 or c > 126:
            return -1
        x ^= c
    return x


if IS_MICROPYTHON:
    xor_printable = _xor_loop
else:  # CPython: the same result from C-level builtins, twice as fast as the loop there
    from functools import reduce
    from operator import xor

    _UNPRINTABLE = bytes(range(32)) + bytes(range(127, 256))

    def xor_printable(buf, a, b):
        s = bytes(buf[a:b])
        if len(s.translate(None, _UNPRINTABLE)) != len(s):
            return -1
        return reduce(xor, s, 0)
