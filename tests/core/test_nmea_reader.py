# The NMEA reader: framing, checks, dispatch, epoch assembly. Runs on CPython and MicroPython.
from nmeatest import cs, lines, run
from tagcore.fix import FLAG_ACC_GST, FLAG_ACC_HDOP, FLAG_DATE_CARRIED, FLAG_DATE_ROLLOVER
from tagcore.gnss.epoch import days_from_civil
from tagcore.gnss.nmea import CS_ACCEPT, CS_REQUIRE, LINE_MAX, QUEUE_MAX, NmeaReader

MPY_HEAP = 73728  # the rooms' packages and the integrity hook cost the 64 KB heap its margin

D2026 = days_from_civil(2026, 11, 22)
T0 = D2026 * 86400 + 12 * 3600 + 35 * 60 + 19

EPOCH = (
    "GNRMC,123519.00,A,4807.038,N,01131.000,E,022.4,084.4,221126,003.1,W,A,V",
    "GNVTG,084.4,T,,M,022.4,N,041.5,K,A",
    "GNGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    "GNGSA,A,3,04,05,09,12,24,,,,,,,,2.5,1.3,2.1,1",
    "GNGSA,A,3,65,71,72,,,,,,,,,,2.5,1.3,2.1,2",
    "GNGSA,A,3,301,303,,,,,,,,,,,2.5,1.3,2.1,3",
    "GPGSV,2,1,07,04,40,083,46,05,17,308,41,09,07,344,39,12,52,213,45,1",
    "GNGST,123519.00,1.5,2.0,1.0,45,1.2,1.6,3.0",
)
NEXT = "GNGGA,123520.00,4807.039,N,01131.001,E,1,08,0.9,545.6,M,46.9,M,,"


def test_one_epoch_becomes_one_fix_with_every_field():
    r, fixes = run(lines(*EPOCH) + lines(NEXT))
    assert len(fixes) == 2
    f = fixes[0]
    assert f.t == T0 and f.ms == 0
    assert f.lat == 48117300 and f.lon == 11516667
    assert f.alt_dm == 5454
    assert f.speed_cms == 1152  # 22.4 knots
    assert f.course_cd == 8440
    assert f.sats == 10  # 5 GPS + 3 GLONASS + 2 Galileo, from the GSA of each system
    assert f.hdop_c == 90
    assert f.quality == 1 and f.mode == 3
    assert f.acc_dm == 20  # GST: sqrt(1.2^2 + 1.6^2) = 2.0 m
    assert f.flags & FLAG_ACC_GST
    assert r.sentences == len(EPOCH) + 1
    assert r.counts == {}


def test_accuracy_from_hdop_when_no_gst():
    _, fixes = run(lines(*EPOCH[:3]) + lines(NEXT), uere_dm=50)
    assert fixes[0].acc_dm == 45 and fixes[0].flags & FLAG_ACC_HDOP
    assert fixes[0].sats == 8  # no GSA: the GGA count


def test_any_chunking_gives_the_same_fixes():
    data = b"noise\x00\xff" + lines(*EPOCH) + b"$GPGG" + lines(NEXT) + lines(NEXT)
    ref = run(data)
    for chunk in (1, 2, 3, 7, 64, 81, 82, 83, 500):
        r, fixes = run(data, chunk)
        assert fixes == ref[1], chunk
        assert r.counts == ref[0].counts, chunk


def test_resync_on_dollar_counts_the_cut_sentence():
    r, _ = run(b"$GPGGA,1235" + lines(*EPOCH[:3]))
    assert r.counts.get("truncated") == 1
    assert r.sentences == 3


def test_lower_case_checksum_and_bad_checksum():
    good = cs(EPOCH[2])
    lower = good[:-2] + good[-2:].lower()
    r, _ = run(lower + b"\r\n")
    assert r.sentences == 1
    bad = good[:-1] + (b"0" if good[-1:] != b"0" else b"1")
    r, _ = run(bad + b"\r\n")
    assert r.counts == {"bad_checksum": 1} and r.sentences == 0


def test_checksum_policies():
    raw = b"$" + EPOCH[2].encode() + b"\r\n"
    r, _ = run(raw, checksum=CS_REQUIRE)
    assert r.counts == {"no_checksum": 1}
    r, _ = run(raw, checksum=CS_ACCEPT)
    # Used (a GGA alone has no date, so its epoch is counted as undated, not lost silently).
    assert r.counts == {"no_checksum_used": 1, "no_date": 1} and r.sentences == 1
    # Default: used while the stream has never shown a checksum, refused once it has.
    r, _ = run(raw + lines(EPOCH[0]) + raw)
    assert r.counts == {"no_checksum_used": 1, "no_checksum": 1}


def test_non_printable_and_overlong_sentences_are_dropped_and_counted():
    body = EPOCH[2].replace("545.4", "54\x015.4")
    r, _ = run(cs(body) + b"\r\n")
    assert r.counts == {"nonprintable": 1}
    long_body = "GPTXT," + "X" * (LINE_MAX + 10)
    for chunk in (0, 5):
        r, _ = run(cs(long_body) + b"\r\n" + lines(EPOCH[0]), chunk)
        assert r.counts == {"too_long": 1}, chunk
        assert r.sentences == 1


def test_talkers_and_unknown_and_proprietary():
    data = lines(
        "PUBX,00,123519.00,4807.038,N",
        "SDDBT,12.1,f,3.7,M,2.0,F",
        "GPXYZ,1,2,3",
        "GPGSV,1,1,01,04,40,083,46",
        "BDGSV,1,1,01,201,40,083,46",
        "GBGSV,1,1,01,201,40,083,46",
        "GQGSV,1,1,01,193,40,083,46",
        "QZGSV,1,1,01,193,40,083,46",
        "GIGSV,1,1,01,01,40,083,46",
        "GAGSV,1,1,01,301,40,083,46",
        "GLGSV,1,1,01,65,40,083,46",
        "GNGSV,1,1,01,65,40,083,46",
        "GYOACC,1,2",
    )
    r, _ = run(data)
    assert r.counts == {"proprietary": 1, "other_talker": 1, "unknown_sentence": 2}
    assert r.sentences == 9


def test_gsv_signal_id():
    r = NmeaReader()
    r.feed(lines("GPGSV,3,1,09,04,40,083,46,05,17,308,41,09,07,344,39,12,52,213,45,1"))
    assert r.s_signal == 1
    r.feed(lines("GPGSV,3,1,09,04,40,083,46,05,17,308,41,09,07,344,39,12,52,213,45"))
    assert r.s_signal < 0


def test_no_fix_epochs_give_quality_zero():
    data = lines(
        "GPRMC,123519.00,A,4807.038,N,01131.000,E,0.0,0.0,221126,,,A",
        "GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
        "GPRMC,123520.00,V,,,,,,,221126,,,N",
        "GPGGA,123520.00,,,,,0,00,99.99,,,,,,",
    )
    _, fixes = run(data)
    assert [f.quality for f in fixes] == [1, 0]
    assert fixes[1].lat is None and fixes[1].t == T0 + 1


def test_contradicting_status_makes_no_fix():
    # Garmin demo mode: GGA says a fix, RMC says void.
    data = lines(
        "GPRMC,123518.00,A,4807.038,N,01131.000,E,0.0,0.0,221126,,,A",
        "GPRMC,123519.00,V,4807.038,N,01131.000,E,0.0,0.0,221126,,,S",
        "GPGGA,123519.00,4807.038,N,01131.000,E,8,08,0.9,545.4,M,46.9,M,,",
    )
    _, fixes = run(data)
    assert [f.quality for f in fixes] == [1, 0]


def test_date_carried_across_midnight_for_gga_only_receivers():
    data = lines(
        "GPRMC,235959.00,A,4807.038,N,01131.000,E,0.0,0.0,221126,,,A",
        "GPGGA,235959.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
        "GPGGA,000000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    )
    _, fixes = run(data)
    assert fixes[1].t == fixes[0].t + 1
    assert fixes[1].flags & FLAG_DATE_CARRIED


def test_rollover_dates_are_corrected_and_flagged():
    floor = days_from_civil(2019, 4, 7)
    data = lines(
        "GPRMC,123519.00,A,4807.038,N,01131.000,E,0.0,0.0,220899,,,A",
        "GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    )
    r, fixes = run(data + lines(NEXT), floor_days=floor)
    assert fixes[0].t // 86400 == days_from_civil(2019, 4, 7)
    assert fixes[0].flags & FLAG_DATE_ROLLOVER
    assert r.counts == {"date_rollover": 1}


def test_receiver_default_date_is_never_used():
    # A 1980 default date before the first fix, then a fix with no usable date.
    data = lines(
        "GPRMC,235951.952,V,0000.0000,N,00000.0000,E,,0.00,050180,,,N",
        "GPGGA,235952.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    )
    r, fixes = run(data)
    assert fixes == []
    assert r.counts == {"no_date": 2}


def test_zda_dates_the_epoch():
    data = lines(
        "GPZDA,123519.00,22,11,2026,00,00",
        "GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    )
    _, fixes = run(data)
    assert fixes[0].t == T0


def test_malformed_fields_are_counted():
    data = lines(
        "GPGGA,123519.00,8960.000,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
        "GPGGA,123519.00,4807.038,N,01131.000,E,x,08,0.9,545.4,M,46.9,M,,",
        "GPRMC,123519.00,A,4807.038,N,01131.000,E,0.0,0.0,311126,,,A",
        "GPGSA,A",
        "GPZDA,123519.00,31,02,2026,00,00",
    )
    r, _ = run(data)
    assert r.counts == {"malformed": 5, "no_date": 1}


def test_memory_stays_bounded_on_endless_garbage():
    r = NmeaReader()
    r.feed(b"$")
    junk = b"A" * 997
    for _ in range(50):
        r.feed(junk)
    assert len(r.line) == LINE_MAX + 2
    r.feed(b"\n")
    assert r.counts.get("too_long") == 1
    # Fixes nobody pops are capped; the oldest go and are counted.
    r = NmeaReader()
    r.feed(lines("GPRMC,123500.00,A,4807.038,N,01131.000,E,0.0,0.0,221126,,,A"))
    for s in range(20):
        r.feed(lines(f"GPGGA,1235{s:02d}.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"))
    assert len(r.queue) == QUEUE_MAX
    assert r.counts.get("queue_overflow", 0) > 0


def test_feed_reads_only_the_first_n_bytes_of_a_reused_buffer():
    data = lines(*EPOCH) + lines(NEXT)
    buf = bytearray(64)
    r = NmeaReader()
    got = []
    for i in range(0, len(data), 64):
        part = data[i : i + 64]
        buf[: len(part)] = part
        r.feed(buf, len(part))
        while True:
            f = r.pop()
            if f is None:
                break
            got.append(f)
    assert got == run(data)[1][:1]


# -- issue 13: field findings -----------------------------------------------------------------

HEX = "0123456789ABCDEF"


def test_gsv_signal_id_is_one_hex_digit():
    # NMEA 4.11 signal IDs run 1..F (BeiDou B2a is B, ...): every hex digit is read as hex.
    for k in range(16):
        r = NmeaReader()
        r.feed(lines("BDGSV,1,1,01,201,40,083,46," + HEX[k]))
        assert r.counts == {} and r.s_signal == k, k
    for bad in ("G", "10", "-1", "b"):
        r = NmeaReader()
        r.feed(lines("BDGSV,1,1,01,201,40,083,46," + bad))
        assert r.counts == {"malformed": 1}, bad


def test_gsa_system_id_is_one_hex_digit():
    # A GN GSA names its constellation by a hex system ID; digits above 9 must not be refused.
    for k in range(1, 16):
        body = "GNGSA,A,3,04,05,09,,,,,,,,,,2.5,1.3,2.1," + HEX[k]
        r, _ = run(lines(EPOCH[2], body))
        assert r.counts == {"no_date": 1}, (k, r.counts)
        assert r.sentences == 2, k
        slot = k if k < 7 else 0
        assert r.ep.used[slot] == 3, k


GGA_POS = (48117300, 11516667)  # EPOCH[2]'s position


def _epoch_with(*others):
    """The EPOCH's GGA with other position sentences of the same time, in every order."""
    gga = EPOCH[2]
    out = []
    items = list(others)
    items.insert(0, gga)
    n = len(items)
    # Every rotation and its reverse: GGA first, last and in between.
    for i in range(n):
        rot = items[i:] + items[:i]
        out.append(rot)
        out.append(rot[::-1])
    return out


def test_position_comes_from_gga_whatever_the_order():
    # RMC, GLL and GNS carry slightly different positions for the same time (receivers that
    # fill them from another stage of their solution); the fix must carry GGA's, whose
    # quality, HDOP and altitude it has.
    rmc = "GNRMC,123519.00,A,4807.050,N,01131.020,E,022.4,084.4,221126,003.1,W,A,V"
    gll = "GNGLL,4807.060,N,01131.030,E,123519.00,A,A"
    gns = "GNGNS,123519.00,4807.070,N,01131.040,E,AN,08,0.9,545.4,46.9,,"
    for order in _epoch_with(rmc, gll, gns):
        _, fixes = run(lines(*order) + lines(NEXT))
        f = fixes[0]
        assert (f.lat, f.lon) == GGA_POS, order
        assert f.quality == 1 and f.alt_dm == 5454 and f.hdop_c == 90, order


def test_position_comes_from_gns_when_there_is_no_gga():
    rmc = "GNRMC,123519.00,A,4807.050,N,01131.020,E,022.4,084.4,221126,003.1,W,A,V"
    gll = "GNGLL,4807.060,N,01131.030,E,123519.00,A,A"
    gns = "GNGNS,123519.00,4807.038,N,01131.000,E,AN,08,1.1,545.0,46.9,,"
    for order in ((rmc, gll, gns), (gns, gll, rmc), (gll, gns, rmc)):
        _, fixes = run(lines(*order) + lines(NEXT))
        f = fixes[0]
        assert (f.lat, f.lon) == GGA_POS, order
        assert f.hdop_c == 110 and f.alt_dm == 5450, order


NOFIX_CYCLE = (
    "GPVTG,,T,,M,,N,,K,N",
    "GPGSA,A,1,,,,,,,,,,,,,,,,",
    "GPGGA,,,,,,0,,,,,,,,",
    "GPRMC,,V,,,,,,,,,,N",
)


def test_a_no_fix_cycle_does_not_void_the_fix_before_it():
    # Quectel: after the last good epoch the receiver starts its no-fix cycles with the
    # time-less VTG and GSA. They belong to the next cycle, not to the good epoch still open.
    good = (
        "GPGGA,123519.00,4807.038,N,01131.000,E,1,06,1.1,53.0,M,37.0,M,,",
        "GPVTG,,T,341.7,M,0.0,N,0.0,K,A",
        "GPRMC,123519.00,A,4807.038,N,01131.000,E,0.0,,221126,18.3,E,A,V",
        "GPGSA,A,2,06,07,11,19,22,30,,,,,,,1.4,1.1,0.9,1",
        "GPGSV,2,1,06,01,37,122,,13,21,278,,17,60,275,,24,,,,1",
    )
    # Any subset and order of the time-less no-fix statements, then the rest of the cycle.
    heads = (
        NOFIX_CYCLE[:1],
        NOFIX_CYCLE[1:2],
        NOFIX_CYCLE[:2],
        (NOFIX_CYCLE[1], NOFIX_CYCLE[0]),
    )
    for head in heads:
        for chunk in (0, 7):
            data = lines(*good) + lines(*head) + lines(*NOFIX_CYCLE[2:]) * 2
            r, fixes = run(data, chunk)
            f = fixes[0]
            assert f.quality == 1 and f.t == T0, (head, chunk)
            assert f.sats == 6 and f.mode == 2 and f.speed_cms == 0, (head, chunk)
            assert [g.quality for g in fixes[1:]] == [], (head, fixes)
            assert r.counts == {"no_time": 1}, (head, r.counts)


def test_time_less_sentences_leading_a_cycle_join_the_epoch_that_follows():
    # A receiver whose cycle starts with VTG and GSA (fix after no fix): their speed, course
    # and satellites belong to the GGA/RMC that follow, not to the no-fix epoch before.
    data = lines(*NOFIX_CYCLE) + lines(
        "GPVTG,084.4,T,,M,022.4,N,041.5,K,A",
        "GPGSA,A,3,04,05,09,12,24,,,,,,,,2.5,1.3,2.1,1",
        "GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
        "GPRMC,123519.00,A,4807.038,N,01131.000,E,,,221126,,,A",
    )
    r, fixes = run(data + lines(NEXT))
    f = fixes[0]
    assert f.quality == 1 and f.t == T0
    assert f.speed_cms == 1152 and f.course_cd == 8440 and f.sats == 5 and f.mode == 3
    assert r.counts == {"no_time": 1}


def test_contradicting_statements_of_one_time_still_make_no_fix():
    # The split only applies to sentences without a time: a timed void still voids.
    data = lines(
        "GPRMC,123518.00,A,4807.038,N,01131.000,E,0.0,0.0,221126,,,A",
        "GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
        "GPRMC,123519.00,V,4807.038,N,01131.000,E,0.0,0.0,221126,,,N",
        NEXT,
    )
    _, fixes = run(data)
    assert [f.quality for f in fixes] == [1, 0, 1]


def _dated(ddmmyy, hhmmss="123519"):
    return lines(
        "GPRMC," + hhmmss + ".00,A,4807.038,N,01131.000,E,0.0,0.0," + ddmmyy + ",,,A",
        "GPGGA," + hhmmss + ".00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
    )


def test_a_date_just_below_the_floor_is_refused_not_moved_forward():
    floor = days_from_civil(2026, 3, 2)
    for ddmmyy in ("010326", "280226", "010226", "020325"):
        r, fixes = run(_dated(ddmmyy), floor_days=floor)
        assert fixes == [], ddmmyy
        assert r.counts == {"bad_date": 1, "no_date": 1}, (ddmmyy, r.counts)


def test_raise_floor_follows_the_last_stored_fix_and_never_goes_down():
    r = NmeaReader(floor_days=days_from_civil(2026, 1, 1))
    t = days_from_civil(2026, 11, 22) * 86400 + 12 * 3600
    r.raise_floor(t)
    assert r.dates.floor == days_from_civil(2026, 11, 22)
    r.raise_floor(t - 86400 * 30)
    assert r.dates.floor == days_from_civil(2026, 11, 22)
    # A day before the last stored fix is now refused; the same day is fine.
    r.feed(_dated("211126"))
    r.feed(_dated("221126", "123520"))
    r.flush()
    f = r.pop()
    assert f is not None and f.t == t + 35 * 60 + 20
    assert r.pop() is None and r.counts.get("bad_date") == 1


COMMENTS = (
    b"# Note: Odd signal loss behavior with $GPGGA and $GPRMC.",
    b"#        $QZGSV,1,1,01,193,34,332,,,,,,,,,,,,,",
    b"# $GPGGA,123519.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*7B",
    b"#",
    b"#$$GYOACC is 100 Hz 6-axi gyro",
)


def test_hash_lines_are_counted_as_such_not_as_damage():
    # gpsd captures carry '#' comment lines (NovAtel-style receivers send '#' logs): a '$'
    # inside one is no sentence, and the line is counted once, whatever the chunking.
    body = lines(*EPOCH) + lines(NEXT)
    ref = run(body)[1]
    for c in COMMENTS:
        for where in ("head", "middle", "both"):
            if where == "head":
                data = c + b"\r\n" + body
            elif where == "middle":
                data = lines(*EPOCH) + c + b"\n" + lines(NEXT)
            else:
                data = c + b"\n" + c + b"\r\n" + lines(*EPOCH) + c + b"\r\n" + lines(NEXT)
            want = 3 if where == "both" else 1
            for chunk in (0, 1, 2, 5, 64):
                r, fixes = run(data, chunk)
                assert fixes == ref, (c, where, chunk)
                assert r.counts == {"hash_lines": want}, (c, where, chunk, r.counts)


def test_a_hash_inside_a_line_is_not_a_comment():
    r, _ = run(b"ab#c" + lines(EPOCH[0]))
    assert r.counts == {"junk_bytes": 4} and r.sentences == 1


def test_doubled_dollars_are_counted_as_such_and_the_sentence_is_used():
    for k in (1, 2, 3):
        for chunk in (0, 1, 3):
            r, _ = run(b"$" * k + lines(EPOCH[0]), chunk)
            assert r.sentences == 1, (k, chunk)
            assert r.counts == {"double_dollar": k}, (k, chunk, r.counts)


def test_a_satellite_count_beyond_what_the_store_keeps_saturates():
    # The store keeps 7 bits of satellites and refuses (ValueError) a fix with more: a GGA
    # saying 128-999 in use (garbage, or a receiver summing every system) crashed the app's
    # append_fix. The reader saturates the count at 127; the position stands.
    from tagcore.store.record import fix_error

    for n in (127, 128, 150, 999):
        gga = "GNGGA,123519.00,4807.038,N,01131.000,E,1," + str(n) + ",0.9,545.4,M,46.9,M,,"
        _, fixes = run(lines(EPOCH[0], gga) + lines(NEXT))
        f = fixes[0]
        assert f.sats == min(n, 127) and f.lat == 48117300
        assert fix_error(f) is None, (n, fix_error(f))
