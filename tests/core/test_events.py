# The event vocabulary (tagcore.events): every stored record round-trips through a real store
# frame, and every truncation or stray byte is refused the one way (ValueError), on both
# runtimes.
from tagcore import events as E
from tagcore.fix import Fix
from tagcore.store import record as R
from tagcore.zones import monitor as Z

F = Fix(800000000, 0, 50720000, -1880000, 120, 150, 9000, 80, 110, 8, 1, 3, 0)
F2 = Fix(F.t + 15, 0, F.lat, F.lon, None, 0, 0, 90, None, 7, 1, 3, 0)

RECORDS = (
    Z.zone_alert(
        Z.A_BREACH,
        800000000,
        300,
        1,
        Z.RULE_CONSECUTIVE,
        (F, F2),
    ),
    Z.zone_alert(Z.A_BREACH_END, 800000100, 70000, 2, Z.END_LEFT, ()),
    Z.zone_alert(Z.A_CONFIG_EXPIRED, 800000200, 0, 0, 0, ()),
    Z.loc_alert(Z.A_LOC_LOST, 800000300, 1200, (F,)),
    Z.loc_alert(Z.A_LOC_BACK, 800000400, 1485, (F,)),
    E.Tamper(800000500, E.TAMPER_CASE_OPEN),
    E.LowBattery(800000600, 9),
    E.Thinned(800000700, 31, 100, 161, 400),
    E.Dropped(800000800, 64, 1, 200, 12, 400),
    E.Boot(800000900),
)


def raises(fn, *args):
    try:
        fn(*args)
    except ValueError:
        return True
    return False


def framed(kind, t, data):
    # through a real store frame and back, as the store and the server see it
    fr = R.frame(kind, 9, R.event_payload(t, data))
    [(_seq, k, (t2, d2))] = R.frame_records(fr, 0, R.check_frame(fr, 0, len(fr)))
    return k, t2, d2


def test_every_record_round_trips_through_a_store_frame():
    for ev in RECORDS:
        kind, data = E.encode(ev)
        k, t, d = framed(kind, ev[1] if type(ev) is Z.Alert else ev[0], data)
        assert k == kind and E.decode(k, t, d) == ev, ev
    mark = E.Mark(400, 100, 161)
    kind, data = E.encode(mark)
    assert kind == R.KIND_MARK and E.decode(kind, 0, data) == mark


def test_kinds_and_layouts_are_the_ones_record_names():
    assert E.encode(E.Tamper(1, E.TAMPER_STRAP_CUT)) == (R.EV_TAMPER, b"\x01")
    assert E.encode(E.LowBattery(1, 7)) == (R.EV_LOW_BATTERY, b"\x07")
    assert E.encode(E.Boot(1)) == (R.EV_BOOT, b"")
    assert E.encode(RECORDS[0])[0] == R.EV_ZONE and E.encode(RECORDS[3])[0] == R.EV_LOC_LOST
    assert E.TAMPER_CODES["removed"] == E.TAMPER_REMOVED


def test_wearer_only_alerts_and_foreign_values_are_not_encoded():
    for k in (Z.A_APPROACH, Z.A_LOC_WARN):
        assert k not in Z.STORED_ALERTS
        assert raises(E.encode, Z.zone_alert(k, 1, 1, 1, 0, ()))
    assert raises(E.encode, (1, 2))
    assert raises(E.encode, E.Tamper(1, 256))


def test_every_truncation_and_extension_is_a_value_error():
    for ev in RECORDS:
        kind, data = E.encode(ev)
        data = bytes(data)
        for n in range(len(data)):
            got = None
            try:
                got = E.decode(kind, 5, data[:n])
            except ValueError:
                pass
            # a shorter prefix is never taken for the record itself
            assert got != ev, (ev, n)
        assert raises(E.decode, kind, 5, data + b"\x00"), ev
    assert raises(E.decode, R.EV_ZONE, 0, b"\x01\x05")
    assert raises(E.decode, R.EV_ZONE, 0, b"")
    assert raises(E.decode, R.EV_LOC_LOST, 0, b"")
    assert raises(E.decode, R.EV_ZONE, 0, b"\x05\x01\x01\x01\x00")  # a location code
    assert raises(E.decode, R.EV_STATUS, 0, b"ctr")  # no record for it


# ---- EV_POWER, EV_INTEGRITY (EV_SEAL: tests/test_events_seal.py) --------------------------------
# They had no codec: the app, tagcore.gnss.integrity and the sealer built the bytes themselves.
# Stored logs must still decode, so the codec's bytes are the old producers' bytes.


def old_power(what, level, left):
    # tagcore.app.app TagApp._budget before the codec (8e7d148)
    return bytes((what, level, left & 255, left >> 8))


def old_integrity(kind, vals, x=None, y=None):
    # tagcore.gnss.integrity Integrity._event before the codec (8e7d148)
    b = bytearray()
    b.append(kind)
    for v in vals:
        R.put_varint(b, R.zz(v))
    if x is not None:
        R.put_varint(b, R.zz(x))
        R.put_varint(b, R.zz(y))
    return bytes(b)


# What the old code stored in the simulator (week.toml on a 20 mAh cell with a 4 h target; the
# foil-and-spoofer day), run through the real TagApp at 8e7d148: (kind, t, data hex).
STORED_BEFORE = (
    (R.EV_POWER, 826353000, "01048801"),
    (R.EV_POWER, 826358643, "0103a700"),
    (R.EV_POWER, 826358643, "0203a700"),
    (R.EV_POWER, 826365101, "03033c00"),
    (R.EV_INTEGRITY, 825729481, "0364667a1c560064"),
    (R.EV_INTEGRITY, 825730623, "0706ec11cc101c52"),
    (R.EV_INTEGRITY, 825731497, "040224f4060a0c000000"),
)


def test_power_and_integrity_records_round_trip_and_keep_the_old_bytes():
    cases = (
        (E.Power(5, E.POWER_LEVEL, 4, 392), old_power(1, 4, 392)),
        (E.Power(5, E.POWER_LOW, 3, 240), old_power(2, 3, 240)),
        (E.Power(5, E.POWER_CRITICAL, 0, 65535), old_power(3, 0, 65535)),  # the app's cap
        (E.Power(5, E.POWER_LEVEL, 0, 0), old_power(1, 0, 0)),
        (
            E.Integrity(5, 3, (50, 51, 61, 14, 43, 0, 50)),
            old_integrity(3, (50, 51, 61, 14, 43), 0, 50),
        ),
        (E.Integrity(5, 8, (5, 2, 6, 200, 1)), old_integrity(8, (5, 2, 6, 200, 1))),
        (
            E.Integrity(5, 4, (1, 9, 452, -7, 6, 0, 0, -1 << 40)),
            old_integrity(4, (1, 9, 452, -7, 6, 0, 0, -1 << 40)),
        ),
        (E.Integrity(5, 7, ()), old_integrity(7, ())),
    )
    for ev, old in cases:
        kind, data = E.encode(ev)
        assert bytes(data) == old, ev
        k, t, d = framed(kind, ev.t, data)
        assert k == kind and E.decode(k, t, d) == ev, ev
    assert E.encode(cases[0][0])[0] == R.EV_POWER and E.encode(cases[4][0])[0] == R.EV_INTEGRITY
    for kind, t, hexdata in STORED_BEFORE:  # the stored logs decode, and encode back alike
        data = bytes.fromhex(hexdata)
        ev = E.decode(kind, t, data)
        assert ev.t == t and bytes(E.encode(ev)[1]) == data
    assert E.decode(R.EV_POWER, 1, bytes.fromhex("03033c00")) == E.Power(1, 3, 3, 60)
    sig = E.decode(R.EV_INTEGRITY, 1, bytes.fromhex("0364667a1c560064"))
    assert sig == E.Integrity(1, 3, (50, 51, 61, 14, 43, 0, 50))


def test_power_and_integrity_refuse_what_is_not_one():
    for data in (b"", b"\x02", b"\x02\x03\x00", b"\x02\x03\x00\x00\x00", b"\x00\x00\x00\x00"):
        assert raises(E.decode, R.EV_POWER, 0, data), data
    assert raises(E.decode, R.EV_POWER, 0, b"\x04\x00\x00\x00")  # no such warning
    assert raises(E.decode, R.EV_INTEGRITY, 0, b"")
    assert raises(E.decode, R.EV_INTEGRITY, 0, b"\x03\x80")  # a varint cut short
    assert raises(E.decode, R.EV_INTEGRITY, 0, b"\x03" + b"\xff" * 11)  # too long for one
    # a value that does not fit its field is refused, not wrapped (bytearray would wrap it)
    assert raises(E.encode, E.Power(1, E.POWER_LOW, 1, 65536))
    assert raises(E.encode, E.Power(1, E.POWER_LOW, 256, 1))
    assert raises(E.encode, E.Power(1, E.POWER_LOW, 1, -1))
    assert raises(E.encode, E.Integrity(1, 256, ()))
