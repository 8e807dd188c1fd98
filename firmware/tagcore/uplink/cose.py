# COSE_Mac0 (RFC 9052 section 6.2) with HMAC 256/64 (RFC 9053 section 3.1, alg 4): the
# envelope of every uplink message in both directions (docs/uplink.md).
#
#   17([ h'A10104' (protected {1: 4}), {4: kid}, payload bstr, tag bstr(8) ])
#   tag = HMAC-SHA256(key, MAC_structure)[:8],
#   MAC_structure = ["MAC0", h'A10104', external_aad bstr, payload bstr]
#
# MicroPython has no `hmac` module: HMAC (RFC 2104, tagcore.mac) is fed
# the MAC_structure in pieces, so the payload is hashed in place, never copied for the MAC.

from tagcore.compat import const
from tagcore.mac import Hmac, ct_equal
from tagcore.uplink import cbor

TAG_MAC0 = const(17)
ALG_HMAC256_64 = const(4)
MAC_LEN = const(8)
KID_LEN = const(8)
PROTECTED = b"\xa1\x01\x04"  # {1: 4}
AAD_UP = b"opentag/up/v1"
AAD_DOWN = b"opentag/down/v1"

# Refusal reasons (the strings are the counters' names).
FORGED = "forged"  # well formed, MAC does not verify
MALFORMED = "malformed"  # not a COSE_Mac0 of this profile


def mac_tag(key, aad, payload, start=0, end=None):
    """The 8-byte tag over MAC_structure for payload[start:end] (a buffer, not copied)."""
    if end is None:
        end = len(payload)
    h = Hmac(key)
    s = bytearray(b"\x84\x64MAC0")
    cbor.put_bytes(s, PROTECTED)
    cbor.put_bytes(s, aad)
    cbor.put_head(s, cbor.BSTR, end - start)
    h.update(s)
    h.update(memoryview(payload)[start:end])
    return h.digest()[:MAC_LEN]


def prefix(kid):
    """The message's bytes before the payload's bstr head: tag 17, array(4), protected, {4: kid}."""
    out = bytearray(b"\xd1\x84")
    cbor.put_bytes(out, PROTECTED)
    out.append(0xA1)
    out.append(0x04)
    cbor.put_bytes(out, kid)
    return out


def encode(key, kid, aad, payload):
    """The complete COSE_Mac0 message (bytearray) carrying `payload`."""
    out = prefix(kid)
    cbor.put_bytes(out, payload)
    cbor.put_bytes(out, mac_tag(key, aad, payload))
    return out


def decode(key, kid, aad, msg):
    """(payload bytes, None) if `msg` is a COSE_Mac0 of this profile whose kid is `kid` and
    whose tag verifies under `key` with `aad`; else (None, FORGED | MALFORMED). Bad bytes never
    raise; a `msg` that is not a buffer raises TypeError, a short heap MemoryError."""
    try:
        m = cbor.decode(msg)
    except ValueError:  # the decoder's one failure for bad bytes
        return None, MALFORMED
    if not isinstance(m, cbor.Tagged) or m.tag != TAG_MAC0:
        return None, MALFORMED
    m = m.value
    if type(m) is not list or len(m) != 4:
        return None, MALFORMED
    prot, unprot, payload, tag = m
    if type(prot) is not bytes or type(payload) is not bytes or type(tag) is not bytes:
        return None, MALFORMED
    try:
        ph = cbor.decode(prot)
    except ValueError:  # the decoder's one failure for bad bytes
        return None, MALFORMED
    # Only alg HMAC 256/64 may be protected; crit or any other protected header is refused.
    if type(ph) is not dict or len(ph) != 1 or ph.get(1) != ALG_HMAC256_64:
        return None, MALFORMED
    if type(unprot) is not dict or len(unprot) != 1 or type(unprot.get(4)) is not bytes:
        return None, MALFORMED
    if unprot[4] != kid or len(tag) != MAC_LEN:
        return None, MALFORMED
    h = Hmac(key)
    s = bytearray(b"\x84\x64MAC0")
    cbor.put_bytes(s, prot)  # the protected bytes as received (RFC 9052 section 6.3)
    cbor.put_bytes(s, aad)
    cbor.put_head(s, cbor.BSTR, len(payload))
    h.update(s)
    h.update(payload)
    if not ct_equal(h.digest()[:MAC_LEN], tag):
        return None, FORGED
    return payload, None
