# HMAC-SHA256 on hashlib alone (MicroPython has no hmac module), shared by the rooms that sign:
# the beacon's rolling identifiers (proximity.beaconid), the uplink's COSE_Mac0 (uplink.cose)
# and the store's seals (store.seal). Imports hashlib only.
import hashlib

from tagcore.compat import const

_BLOCK = const(64)


class Hmac:
    """Incremental RFC 2104 HMAC-SHA256: Hmac(key); update(piece)...; digest() (32 bytes)."""

    def __init__(self, key):
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        pad = bytearray(_BLOCK)
        pad[: len(key)] = key
        for i in range(_BLOCK):
            pad[i] ^= 0x36
        self.inner = hashlib.sha256(pad)
        for i in range(_BLOCK):
            pad[i] ^= 0x36 ^ 0x5C
        self.opad = pad

    def update(self, b):
        self.inner.update(b)

    def digest(self):
        h = hashlib.sha256(self.opad)
        h.update(self.inner.digest())
        return h.digest()


def hmac_sha256(key, msg):
    """HMAC-SHA256 of msg under key, in one call."""
    h = Hmac(key)
    h.update(msg)
    return h.digest()


def ct_equal(a, b):
    """Compare byte strings in time that depends only on their length."""
    if len(a) != len(b):
        return False
    r = 0
    for i in range(len(a)):
        r |= a[i] ^ b[i]
    return r == 0
