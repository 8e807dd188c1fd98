# Field parsers: exact integer results on both runtimes.
from tagcore.gnss.epoch import days_from_civil, unroll, valid_date
from tagcore.gnss.nmeafields import BAD, EMPTY, dec, hexbyte, latlon, tod_ms, xor_printable
from tagkit.civil import civil_from_days


def d(s, nd):
    b = s.encode()
    return dec(b, 0, len(b), nd)


def test_dec_scales_and_rounds_half_up():
    assert d("545.4", 1) == 5454
    assert d("545.45", 1) == 5455
    assert d("545.449", 1) == 5454
    assert d("-12.3", 1) == -123
    assert d("+7", 2) == 700
    assert d("0.9", 2) == 90
    assert d("012", 0) == 12
    assert d(".5", 1) == 5
    assert d("1.", 1) == 10


def test_dec_rejects_garbage_and_reports_empty():
    assert d("", 2) == EMPTY
    for bad in ("-", ".", "1.2.3", "12a", " 1", "1e5", "--1", "9999999999"):
        assert d(bad, 0) == BAD, bad


def ll(s, hemi, maxdeg):
    b = s.encode()
    return latlon(b, 0, len(b), ord(hemi), maxdeg)


def test_latlon_microdegrees():
    assert ll("4807.038", "N", 90) == 48117300
    assert ll("01131.000", "E", 180) == 11516667
    assert ll("01131.000", "W", 180) == -11516667
    assert ll("3342.6618", "S", 90) == -33711030
    # 8 decimal minutes (RTK receivers) round to the nearest microdegree
    assert ll("4916.45123456", "N", 90) == 49274187
    assert ll("0000.0000", "N", 90) == 0


def test_latlon_refuses_impossible_values():
    assert ll("8960.0000", "N", 90) == BAD  # 60 minutes
    assert ll("36000.0000", "N", 90) == BAD  # 360 degrees of latitude
    assert ll("9000.0001", "N", 90) == BAD
    assert ll("18100.0000", "E", 180) == BAD
    assert ll("4807.038", "X", 90) == BAD
    assert ll("07.038", "N", 90) == BAD
    assert ll("-4807.038", "N", 90) == BAD
    b = b"4807.038"
    assert latlon(b, 0, 0, ord("N"), 90) == EMPTY


def test_time_of_day():
    b = b"123519.994"
    assert tod_ms(b, 0, len(b)) == (12 * 3600 + 35 * 60 + 19) * 1000 + 994
    b = b"000000"
    assert tod_ms(b, 0, 6) == 0
    b = b"235960.5"  # a leap second is allowed
    assert tod_ms(b, 0, len(b)) == 86400500
    for bad in (b"246000", b"126100", b"12351", b"1235-1", b"ab3519"):
        assert tod_ms(bad, 0, len(bad)) == BAD, bad


def test_checksum_hex_and_printable():
    b = b"*4a*4A*zz"
    assert hexbyte(b, 1) == 0x4A
    assert hexbyte(b, 4) == 0x4A
    assert hexbyte(b, 7) == -1
    body = b"GPGGA,123519,4807.038,N"
    x = 0
    for c in body:
        x ^= c
    assert xor_printable(body, 0, len(body)) == x
    assert xor_printable(b"GP\x00GGA", 0, 6) == -1
    assert xor_printable(b"GP\xffGGA", 0, 6) == -1
    assert xor_printable(b"", 0, 0) == 0


def test_days_round_trip_and_validity():
    assert days_from_civil(2000, 1, 1) == 0
    assert days_from_civil(1999, 12, 31) == -1
    assert days_from_civil(2024, 2, 29) == 8825
    for n in (-7300, -1, 0, 59, 60, 8825, 9497, 20000):
        y, m, dd = civil_from_days(n)
        assert days_from_civil(y, m, dd) == n
    assert valid_date(2024, 2, 29)
    assert not valid_date(2023, 2, 29)
    assert not valid_date(2100, 2, 29)
    assert not valid_date(2026, 13, 1)
    assert not valid_date(2026, 4, 31)


def test_week_rollover_is_undone_against_the_floor():
    floor = days_from_civil(2019, 4, 7)
    # A receiver that wrapped in April 2019 reports August 1999 for 2019-04-07.
    assert unroll(days_from_civil(1999, 8, 22), floor) == (days_from_civil(2019, 4, 7), 1)
    tag_floor = days_from_civil(2026, 1, 1)
    # In 2026 such a receiver reports 2007; two wraps for a receiver of the 1980s era.
    assert unroll(days_from_civil(2007, 4, 8), tag_floor) == (days_from_civil(2026, 11, 22), 1)
    assert unroll(days_from_civil(1987, 9, 6), tag_floor)[1] == 2
    # A 2019 date seen by a tag built in 2026 is never taken at face value.
    got, k = unroll(days_from_civil(2019, 6, 1), tag_floor)
    assert k == 1 and got > tag_floor
    assert unroll(days_from_civil(2026, 11, 22), tag_floor) == (days_from_civil(2026, 11, 22), 0)
    assert unroll(days_from_civil(1979, 12, 31), tag_floor) == (-1, -1)  # before GPS existed
    assert unroll(tag_floor + 7168, tag_floor) == (-1, -1)  # no rollover explains this


def test_only_dates_a_week_rollover_can_explain_are_moved():
    # A wrapped receiver reports the true date less a whole number of 1024-week periods, and
    # the true date lies a few years at most past the floor (the tag's build date or its last
    # stored fix). So a date shortly before the floor (a stale receiver clock, a fix older
    # than the last stored one) is refused, never moved 19.6 years into the future.
    for floor in (days_from_civil(2026, 1, 1), days_from_civil(2026, 3, 2), 7036, 0):
        for n in (1, 2, 7, 30, 365, 2 * 365, 4 * 365):
            assert unroll(floor - n, floor) == (-1, -1), (floor, n)
        # Every artefact of a true date up to 13 years past the floor is undone exactly.
        for ahead in range(0, 13 * 365, 97):
            for k in (1, 2, 3):
                d = floor + ahead - k * 7168
                if d >= -7300:
                    assert unroll(d, floor) == (floor + ahead, k), (floor, ahead, k)
            assert unroll(floor + ahead, floor) == (floor + ahead, 0)
