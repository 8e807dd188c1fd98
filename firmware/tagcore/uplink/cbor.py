# The CBOR (RFC 8949) subset of the uplink: unsigned and negative integers, byte strings, text
# strings (decoded only), arrays, maps and tag 17 (COSE_Mac0), all of definite length.
#
# The encoder appends to a bytearray the caller owns (no intermediate objects). The decoder is
# strict and bounded: it refuses indefinite lengths, floats and simple values, duplicate map
# keys, non-integer map keys, nesting deeper than MAX_DEPTH, and any length that runs past the
# end of the buffer, by raising ValueError (its only failure for bad bytes: callers catch that
# and turn it into a counted refusal; a `b` that is not a buffer raises TypeError).
from tagcore.compat import const

MAX_DEPTH = const(8)

UINT = const(0)
NINT = const(1)
BSTR = const(2)
TSTR = const(3)
ARRAY = const(4)
MAP = const(5)
TAG = const(6)


def put_head(out, major, n):
    """Append the head of major type `major` with argument n (0 <= n < 2**64)."""
    m = major << 5
    if n < 24:
        out.append(m | n)
    elif n < 0x100:
        out.append(m | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(m | 25)
        out.append(n >> 8)
        out.append(n & 0xFF)
    elif n < 0x100000000:
        out.append(m | 26)
        for s in (24, 16, 8, 0):
            out.append((n >> s) & 0xFF)
    else:
        out.append(m | 27)
        for s in (56, 48, 40, 32, 24, 16, 8, 0):
            out.append((n >> s) & 0xFF)


def put_int(out, v):
    if v >= 0:
        put_head(out, UINT, v)
    else:
        put_head(out, NINT, -1 - v)


def put_bytes(out, b):
    put_head(out, BSTR, len(b))
    out.extend(b)


def head_len(n):
    """Bytes a head with argument n takes."""
    if n < 24:
        return 1
    if n < 0x100:
        return 2
    if n < 0x10000:
        return 3
    if n < 0x100000000:
        return 5
    return 9


class Tagged:
    """A decoded CBOR tag: number and value."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value


def _arg(b, i, end, info):
    # (argument, next index) of a head whose additional info is `info`.
    if info < 24:
        return info, i
    if info > 27:
        raise ValueError("cbor: indefinite or reserved")
    n = 1 << (info - 24)
    if i + n > end:
        raise ValueError("cbor: short")
    v = 0
    for k in range(n):
        v = (v << 8) | b[i + k]
    return v, i + n


def decode_at(b, i, end, depth=0):
    """(value, next index) of the item at b[i]; raises ValueError on anything outside the
    subset or running past `end`. Byte strings come back as bytes, maps as dicts."""
    if depth > MAX_DEPTH:
        raise ValueError("cbor: too deep")
    if i >= end:
        raise ValueError("cbor: short")
    ib = b[i]
    major = ib >> 5
    v, i = _arg(b, i + 1, end, ib & 0x1F)
    if major == UINT:
        return v, i
    if major == NINT:
        return -1 - v, i
    if major == BSTR or major == TSTR:
        if v > end - i:
            raise ValueError("cbor: short")
        s = bytes(b[i : i + v])
        if major == BSTR:
            return s, i + v
        try:
            return s.decode(), i + v
        except UnicodeError:  # a ValueError on both runtimes; named so the reason is ours
            raise ValueError("cbor: utf-8") from None
    if major == ARRAY:
        if v > end - i:  # every item takes at least a byte
            raise ValueError("cbor: short")
        out = []
        for _ in range(v):
            x, i = decode_at(b, i, end, depth + 1)
            out.append(x)
        return out, i
    if major == MAP:
        if v > (end - i) // 2:
            raise ValueError("cbor: short")
        d = {}
        for _ in range(v):
            k, i = decode_at(b, i, end, depth + 1)
            if type(k) is not int or k in d:
                raise ValueError("cbor: map key")
            x, i = decode_at(b, i, end, depth + 1)
            d[k] = x
        return d, i
    if major == TAG:
        # The profile's only tag is COSE_Mac0's 17: others have semantics (dates, bignums, ...)
        # that general decoders apply, so a value could mean different things on each side.
        if v != 17:
            raise ValueError("cbor: tag")
        x, i = decode_at(b, i, end, depth + 1)
        return Tagged(v, x), i
    raise ValueError("cbor: float or simple")


def decode(b):
    """The one item that is all of `b` (trailing bytes are refused); raises ValueError."""
    v, i = decode_at(b, 0, len(b))
    if i != len(b):
        raise ValueError("cbor: trailing")
    return v
