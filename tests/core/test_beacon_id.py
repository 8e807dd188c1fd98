# Victim-beacon identifiers, advertising data and the tag's identifier table, on both runtimes.
from beacon_vectors import VECTORS
from beaconkit import IVS, SECRET, T0, table_for, unhex
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv, find_id
from tagcore.proximity.idtable import IdTable
from tagkit.beaconwindow import window_blob


def test_hmac_matches_rfc4231():
    # RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    assert beaconid.hmac_sha256(b"\x0b" * 20, b"Hi There") == unhex(
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )
    assert beaconid.hmac_sha256(b"Jefe", b"what do ya want for nothing?") == unhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert beaconid.hmac_sha256(
        b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"
    ) == unhex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")


def test_identifiers_and_addresses_match_known_answers():
    for key, k, ident, addr in VECTORS:
        i, a = beaconid.id_and_addr(unhex(key), k)
        assert i == unhex(ident)
        assert a == unhex(addr)
        assert beaconid.rolling_id(unhex(key), k) == unhex(ident)


def test_address_is_a_non_resolvable_private_one_and_rotates_with_the_identifier():
    prev = None
    for k in range(200):
        a = beaconid.id_and_addr(SECRET, 1000 + k)[1]
        assert len(a) == 6 and a[0] >> 6 == 0
        assert a != prev and a[1:] != b"\xff" * 5
        prev = a


def test_constant_time_compare():
    assert beaconid.ct_equal(b"abc", b"abc")
    assert not beaconid.ct_equal(b"abc", b"abd")
    assert not beaconid.ct_equal(b"abc", b"ab")


def test_advertisement_fits_and_parses():
    ident = beaconid.rolling_id(SECRET, 5)
    adv = build_adv(ident)
    assert len(adv) <= 31
    c = {}
    i = find_id(adv, c)
    assert adv[i : i + 8] == ident and c == {}
    # Other AD structures before and after ours (name, TX power) do not disturb it.
    other = b"\x05\x09abcd" + adv + b"\x02\x0a\x00"
    i = find_id(memoryview(other), c)
    assert other[i : i + 8] == ident and c == {}


def test_malformed_advertising_data_is_counted_never_raised():
    good = build_adv(beaconid.rolling_id(SECRET, 5))
    cases = (
        (b"", "not_beacon"),
        (b"\x1e\xff\xff\xff" + b"\x00" * 5, "ad_overrun"),  # length past the end
        (good[:-1], "ad_overrun"),  # truncated identifier
        (b"\x0d\xff\xff\xff\x01" + b"\x00" * 9, "bad_frame"),  # our format, wrong length
        (good + good[3:], "two_frames"),
        (b"\x00" * 300, "adv_too_long"),
        (b"\x02\x01\x06\x03\xff\x4c\x00", "not_beacon"),  # a phone's manufacturer data
        (b"\x02\x01\x06\x00" + good[3:], "not_beacon"),  # zero length: rest is padding
        (b"\x01\xff", "not_beacon"),  # a manufacturer structure too short for a company
    )
    for data, why in cases:
        c = {}
        assert find_id(data, c) == -1
        assert c == {why: 1}, (data, c)
    c = {}
    assert find_id(12345, c) == -1 and c == {"adv_type": 1}


def test_table_lookup_and_rejects():
    tab = table_for(T0)
    k0 = T0 // IVS
    assert tab.lookup(beaconid.rolling_id(SECRET, k0)) == (0, k0)
    assert tab.lookup(beaconid.rolling_id(SECRET, k0 + 200)) is None  # beyond the window
    assert tab.lookup(b"\x00" * 8) is None
    assert tab.lookup(b"xx" + beaconid.rolling_id(SECRET, k0), 2) == (0, k0)
    blob = window_blob(SECRET, 1, k0, 4)
    for bad, why in (
        (blob[:-1], "truncated"),
        (b"XXXX" + blob[4:], "bad_magic"),
        (blob[:4] + b"\x10" + blob[5:], "id_len"),
        (blob[:5] + b"\x20" + blob[6:], "bad_header"),
        (blob[:10], "truncated"),
    ):
        t2 = IdTable()
        assert t2.load(bad) == 0 and t2.counts == {why: 1} and len(t2) == 0
    # Two windows (two beacons) in one blob; the same window again adds nothing.
    t3 = IdTable()
    assert t3.load(blob + window_blob(b"other", 2, k0, 4)) == 8
    assert t3.load(blob) == 0 and t3.counts == {"duplicate": 4}
    assert t3.lookup(beaconid.rolling_id(b"other", k0 + 3)) == (2, k0 + 3)
    assert t3.drop_before(k0 + 2) == 4 and len(t3) == 4


def test_on_air_follows_the_drawn_schedule_with_a_silence_between_identifiers():
    secret = b"schedule-secret!"
    t = 830000000
    prev_k = None
    changes = 0
    while t < 830000000 + 6 * 3600:
        k, until = beaconid.on_air(secret, t)
        assert until > t
        if k >= 0:
            start, gap = beaconid.start_of(secret, k)
            assert start + gap <= t < beaconid.start_of(secret, k + 1)[0] == until
            assert prev_k is None or k > prev_k
            prev_k = k
            changes += 1
        else:
            assert beaconid.on_air(secret, until)[0] >= 0  # a silence ends with an identifier
        t = until
    assert 15 <= changes <= 33  # on average one every 15 min
