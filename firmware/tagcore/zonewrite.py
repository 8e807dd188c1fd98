# Writes zone blobs (format in tagcore.zoneblob). The host compiler and the tests use it; the
# tag itself never does, so it is kept out of the modules the device imports.
import struct

from tagcore import zoneblob as B

DEFAULT_RULES = B.DEFAULT_RULES


def zone_record(zid, kind, shape, warn_m, lat0, lon0, r_dm, windows, rings):
    """One zone record. windows: [(start, end)] UTC seconds since 2000; rings: [[(lat, lon)]]
    in microdegrees (polygon: outline first, then holes, no closing vertex; corridor: one
    polyline; circle: none)."""
    parts = []
    for s, e in windows:
        parts.append(struct.pack("<II", s, e))
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
    )
    return head + body


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
