# Rolling identifiers of the victim's beacon, shared by the beacon, the host and (for tests) the
# tag. The tag itself never holds the secret: the host gives it a table of identifiers for a
# bounded window (tagcore.proximity.idtable).
#
# For interval k (UTC seconds since 2000-01-01 // interval_s):
#   h    = HMAC-SHA256(secret, b"opentag-beacon-v1" | u32le(k))
#   id   = h[0:8]                    the identifier the beacon advertises
#   addr = h[8:14], top two bits 00  its BLE non-resolvable private address for the interval
# HMAC-SHA256 because hashlib.sha256 is built into both runtimes, where AES (cryptolib) is not
# in CPython's standard library. MicroPython has no `hmac` module: it is written out here.

from tagcore.compat import const
from tagcore.mac import ct_equal, hmac_sha256  # noqa: F401 (beaconid.ct_equal: the tag's check)

ID_LEN = const(8)
ADDR_LEN = const(6)
DEFAULT_INTERVAL_S = const(900)
_LABEL = b"opentag-beacon-v1"


def interval_of(t, interval_s=DEFAULT_INTERVAL_S):
    """The interval number of UTC time t (seconds since 2000-01-01)."""
    return t // interval_s


def _mac(secret, k):
    msg = bytearray(_LABEL)
    msg.append(k & 0xFF)
    msg.append((k >> 8) & 0xFF)
    msg.append((k >> 16) & 0xFF)
    msg.append((k >> 24) & 0xFF)
    return hmac_sha256(secret, msg)


def rolling_id(secret, k):
    """The 8-byte identifier the beacon advertises during interval k."""
    return _mac(secret, k)[:ID_LEN]


def id_and_addr(secret, k):
    """(identifier, BLE address) for interval k; the address is a non-resolvable private one
    (the two most significant bits 00, given here most significant byte first) that changes
    with every identifier."""
    h = _mac(secret, k)
    addr = bytearray(h[ID_LEN : ID_LEN + ADDR_LEN])
    addr[0] &= 0x3F
    # The spec forbids an NRPA whose random part is all zeros or all ones.
    if addr == b"\x00\x00\x00\x00\x00\x00":
        addr[5] = 1
    elif addr == b"\x3f\xff\xff\xff\xff\xff":
        addr[5] = 0xFE
    return h[:ID_LEN], bytes(addr)


# When identifier k is on the air (a passive observer must not learn which new identifier
# follows which old one): it starts at k * interval_s + shift, shift uniform in
# [-interval_s / 2, interval_s / 2), after a silence uniform in [GAP_MIN_S, GAP_MAX_S), both
# from the MAC (unpredictable without the secret, reproducible by the host and the tests), and
# lasts until identifier k + 1 starts: rotations come on average every interval_s (GAEN:
# "on average" every 15 min), at no fixed phase, and old and new are never on the air together.
GAP_MIN_S = const(5)
GAP_MAX_S = const(40)


def start_of(secret, k, interval_s=DEFAULT_INTERVAL_S):
    """(start, silence) of identifier k: silent from start, on the air from start + silence
    until start_of(k + 1)."""
    h = _mac(secret, k)
    half = interval_s // 2
    shift = ((h[14] << 8) | h[15]) * interval_s // 65536 - half
    gap = GAP_MIN_S + h[16] * (GAP_MAX_S - GAP_MIN_S) // 256
    return k * interval_s + shift, gap


def on_air(secret, t, interval_s=DEFAULT_INTERVAL_S):
    """(k, until): the identifier on the air at beacon time t, or k = -1 while silent between
    two; `until` is when that changes."""
    k = t // interval_s + 2  # starts after t: the shift is under interval_s / 2
    start, gap = start_of(secret, k, interval_s)
    nxt = start
    while start > t:
        nxt = start
        k -= 1
        start, gap = start_of(secret, k, interval_s)
    if t < start + gap:
        return -1, start + gap
    return k, nxt
