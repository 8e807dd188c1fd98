# The zone blob loader: valid blobs load, everything else is refused with a reason and never
# raises out of ZoneMonitor.load. Both runtimes.
import struct

from tagcore.zones import blob as B
from tagcore.zones.monitor import ZoneMonitor
from tagkit import zonewrite as W
from zonetest import EXCL, INCL, LAT0, LON0, T0, blob, circle, corridor, ring_m, square


def _refused(rec, why):
    m = ZoneMonitor(blob(rec))
    assert m.error == why, (m.error, why)
    assert m.zones == [] and m.counts == {"config_" + why: 1}


def test_a_blob_round_trips_through_the_loader():
    recs = (
        square(1, 100, holes=[[(-10, -10), (10, -10), (0, 10)]]),
        circle(2, 30, kind=INCL, windows=[(T0, T0 + 60), (T0 + 100, T0 + 200)]),
        corridor(3, [(0, 0), (500, 0)], 20),
    )
    h, zones = B.parse(blob(*recs))
    assert h.count == 3 and B.rules(h) == W.DEFAULT_RULES
    assert [(z.id, z.kind, z.shape) for z in zones] == [
        (1, EXCL, B.SHAPE_POLYGON),
        (2, INCL, B.SHAPE_CIRCLE),
        (3, INCL, B.SHAPE_CORRIDOR),
    ]
    assert list(zones[1].win) == [T0, T0 + 60, T0 + 100, T0 + 200] and zones[0].win is None
    assert [len(r) for r in zones[0].rings] == [8, 6]
    # Vertices come back in the local frame to the decimetre.
    assert (
        list(zones[0].rings[0])[:2] == [-1000, -1000] and zones[0].ext == (-1000,) * 2 + (1000,) * 2
    )
    assert zones[1].ext == (-300, -300, 300, 300)
    r = zones[0].rings[0]
    assert len(bytes(r)) == 2 * len(r)  # int16 vertices: the zone fits +-3.2 km


def test_a_big_zone_keeps_32_bit_vertices():
    _, zones = B.parse(blob(square(1, 5000)))
    r = zones[0].rings[0]
    assert len(bytes(r)) == 4 * len(r) and zones[0].ext[2] == 50000


def test_each_broken_zone_is_refused_with_its_reason():
    poly = B.SHAPE_POLYGON
    tri = ring_m([(0, 0), (100, 0), (0, 100)])
    _refused(W.zone_record(1, 3, poly, 0, LAT0, LON0, 0, [], [tri]), "bad_kind")
    _refused(W.zone_record(1, EXCL, 9, 0, LAT0, LON0, 0, [], [tri]), "bad_shape")
    _refused(W.zone_record(1, EXCL, poly, 0, LAT0, LON0, 0, [], [tri[:2]]), "too_few_points")
    _refused(circle(1, 0), "bad_radius")
    _refused(circle(1, 30000), "bad_radius")
    _refused(square(1, 30000), "too_large")
    _refused(circle(1, 30, lat0=85000000), "near_pole")
    _refused(circle(1, 30, windows=[(T0 + 10, T0)]), "bad_windows")
    _refused(circle(1, 30, windows=[(T0, T0 + 10), (T0 + 5, T0 + 20)]), "bad_windows")
    _refused(circle(1, 30, warn_m=6000), "bad_warning_ring")
    # A zone straddling the antimeridian at Fiji.
    fiji = [(-17000000, 179990000), (-17000000, -179990000), (-17010000, -179990000)]
    _refused(W.zone_record(1, EXCL, poly, 0, -17000000, 179990000, 0, [], [fiji]), "antimeridian")


def test_header_problems_are_refused():
    good = blob(circle(1, 30))
    m = ZoneMonitor(good[:50])
    assert m.error == "short_header"
    for at, val, why in ((0, b"X", "bad_magic"), (4, b"\x02", "bad_version")):
        b = bytearray(good)
        b[at : at + 1] = val
        assert ZoneMonitor(b).error == why
    assert ZoneMonitor(good + b"\x00").error == "bad_length"
    rules = list(W.DEFAULT_RULES)
    rules[0] = 0
    assert ZoneMonitor(blob(circle(1, 30), rules=rules)).error == "bad_rules"
    assert ZoneMonitor(blob(circle(1, 30), valid_until=T0 - 10**6)).error == "bad_validity"


def test_the_signature_area_is_outside_the_crc():
    b = W.blob([circle(1, 30)], T0, T0 + 10, flags=B.FL_SIGNED, signature=b"\x5a" * 64)
    assert ZoneMonitor(b).error is None
    struct.pack_into("<I", b, 60, 12345)
    assert ZoneMonitor(b).error is None


def test_an_unsigned_blob_is_checked_in_every_byte():
    # The CRC leaves out the signature area (a signer fills it after the CRC is known), so an
    # unsigned blob must hold zeros there: else a flipped byte would load unnoticed, and the
    # blob on the tag would not be byte for byte the one the host compiled.
    good = blob(circle(1, 30))
    for i in range(B.HEADER_LEN, B.BODY_AT):
        for v in (1, 0x80, 0xFF):
            b = bytearray(good)
            b[i] = v
            assert ZoneMonitor(b).error == "bad_signature_area", (i, v)
    # Flag bits this tag does not know are refused, not ignored.
    for bit in range(1, 8):
        b = bytearray(good)
        b[5] |= 1 << bit
        struct.pack_into("<I", b, 20, B.crc(b))
        assert ZoneMonitor(b).error == "bad_flags", bit


def test_every_truncation_and_every_byte_flip_is_refused_without_raising():
    good = blob(square(1, 100, holes=[[(-10, -10), (10, -10), (0, 10)]]), circle(2, 30))
    for n in range(len(good)):
        m = ZoneMonitor(good[:n])
        assert m.error is not None and m.zones == []
    for i in range(len(good)):
        b = bytearray(good)
        b[i] ^= 0xA5
        m = ZoneMonitor(b)
        if B.HEADER_LEN <= i < B.BODY_AT:  # an unsigned blob's signature area must stay zero
            assert m.error == "bad_signature_area", (i, m.error)
        elif i >= B.BODY_AT or 20 <= i < 24:
            assert m.error == "bad_crc", (i, m.error)
        else:
            assert m.error is not None and m.zones == []


def test_records_with_a_valid_crc_but_wrong_lengths_are_refused():
    # What a buggy writer could produce: the CRC holds, the structure does not.
    rec = bytearray(circle(1, 30))
    for delta, why in ((1, "bad_record_length"), (-1, "bad_record_length")):
        r = bytearray(rec)
        struct.pack_into("<H", r, 0, len(rec) + delta)
        assert ZoneMonitor(W.blob([bytes(r)], T0, T0 + 10)).error in (why, "truncated")
    r = bytearray(square(1, 100))
    struct.pack_into("<H", r, B.REC_LEN, 60000)  # point count beyond the record
    assert ZoneMonitor(W.blob([bytes(r)], T0, T0 + 10)).error == "too_many_points"


def test_load_counts_bad_bytes_but_lets_a_programming_error_raise():
    # Bad bytes are a returned reason; a caller's mistake (not a bytes-like blob) is not bad
    # input and must not become a silent "malformed" counter.
    m = ZoneMonitor(blob(square(1, 100)))
    assert m.error is None
    assert m.load(b"OTZC" + bytes(200)) is not None and len(m.zones) == 1  # old config kept
    for wrong in (None, 12345, [0] * 200):
        try:
            m.load(wrong)
        except TypeError:
            pass
        else:
            raise AssertionError(repr(wrong))  # load() took it for a bad blob
    assert len(m.zones) == 1 and not any(k.startswith("config_malformed") for k in m.counts)
