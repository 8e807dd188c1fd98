# The server's acknowledgement (docs/uplink.md, "Acknowledgement payload"): verified and
# checked here, before anything on the tag may change.
from tagcore.compat import const
from tagcore.uplink import cbor, cose

K_TAG = const(1)
K_CTR = const(2)
K_ACKED = const(3)
K_TIME = const(4)
K_DOWN = const(5)

# Downlink kinds.
DL_BEACONS = const(1)
DL_ZONES = const(2)
DL_CONFIG = const(3)
DL_LOCATE = const(4)

FORGED = cose.FORGED
MALFORMED = cose.MALFORMED
STALE = "stale"  # answers another request than the outstanding one
REPLAYED = "replayed"  # no request is outstanding (already answered)
AHEAD = "ahead"  # acknowledges a sequence number the tag never handed out


def _uint(v):
    return type(v) is int and v >= 0


def parse(key, tag_id, body):
    """(ctr, acked, time, items, None) of a verified acknowledgement, or
    (0, 0, 0, None, reason) with reason FORGED or MALFORMED. `items` is the list of
    [kind, version, data] downlink items, each well formed. Bad bytes never raise; a `body`
    that is not a buffer raises TypeError, a short heap MemoryError (the client's NOMEM)."""
    payload, why = cose.decode(key, tag_id, cose.AAD_DOWN, body)
    if why is not None:
        return 0, 0, 0, None, why
    try:
        m = cbor.decode(payload)
    except ValueError:  # the decoder's one failure for bad bytes
        return 0, 0, 0, None, MALFORMED
    if type(m) is not dict:
        return 0, 0, 0, None, MALFORMED
    ctr = m.get(K_CTR)
    acked = m.get(K_ACKED)
    t = m.get(K_TIME)
    down = m.get(K_DOWN)
    if m.get(K_TAG) != tag_id or not (_uint(ctr) and _uint(acked) and _uint(t)):
        return 0, 0, 0, None, MALFORMED
    if type(down) is not list:
        return 0, 0, 0, None, MALFORMED
    for it in down:
        if (
            type(it) is not list
            or len(it) != 3
            or not _uint(it[0])
            or not _uint(it[1])
            or type(it[2]) is not bytes
        ):
            return 0, 0, 0, None, MALFORMED
    return ctr, acked, t, down, None


def encode(key, tag_id, ctr, acked, t, items):
    """An acknowledgement as the server writes it (the core's own tests and the simulator's
    in-process server double use it; the real server writes it with pycose)."""
    p = bytearray(b"\xa5")
    p.append(K_TAG)
    cbor.put_bytes(p, tag_id)
    p.append(K_CTR)
    cbor.put_head(p, cbor.UINT, ctr)
    p.append(K_ACKED)
    cbor.put_head(p, cbor.UINT, acked)
    p.append(K_TIME)
    cbor.put_head(p, cbor.UINT, t)
    p.append(K_DOWN)
    cbor.put_head(p, cbor.ARRAY, len(items))
    for kind, version, data in items:
        p.append(0x83)
        cbor.put_head(p, cbor.UINT, kind)
        cbor.put_head(p, cbor.UINT, version)
        cbor.put_bytes(p, data)
    return cose.encode(key, tag_id, cose.AAD_DOWN, p)
