# The receiver power state machine: every ACK, NAK, silence and timeout has its outcome.
# Both runtimes.
from tagcore.gnss import mtk, ublox_m8, ublox_m10, unicore
from tagcore.gnss.power import BACKUP, CONTINUOUS, CYCLIC, OFF, GnssPower, ticks_diff
from tagcore.gnss.rail import rail_action

AXP192 = {"method": "pmu", "chip": "AXP192", "i2c_addr": 52, "reg": 18, "bit": 3}
VEXT = {"method": "gpio", "pin": 3, "active": "high"}
ON = rail_action(AXP192, True)
CUT = rail_action(AXP192, False)


def drain(p):
    out = []
    while True:
        a = p.pop()
        if a is None:
            return out
        out.append(a)


def reply(p, a, ok, now):
    """ACK (ok) or NAK the UBX frame of action a."""
    f = a[1]
    p.on_ubx(now, 5, 1 if ok else 0, bytes((f[2], f[3])))


def powered(driver=ublox_m8, rail=AXP192, now=0):
    """A GnssPower that has powered the receiver and finished set-up (everything ACKed)."""
    p = GnssPower(driver, rail_action(rail, True), rail_action(rail, False))
    p.request(now, CONTINUOUS)
    assert drain(p) == ([("rail", rail_action(rail, True))] if rail else [])
    p.on_output(now + 500)
    t = now + 600
    while True:
        acts = drain(p)
        if not acts:
            break
        for a in acts:
            if a[0] == "uart" and a[1][0] == 0xB5:
                reply(p, a, True, t)
        t += 50
    assert p.mode == CONTINUOUS and not p.busy
    return p


def test_rail_actions_from_profile_data():
    assert ON == ("i2c", 52, 18, 8, 8) and CUT == ("i2c", 52, 18, 8, 0)
    aldo4 = {"method": "pmu", "i2c_addr": 52, "reg": 0x90, "bit": 3}
    assert rail_action(aldo4, True) == ("i2c", 52, 0x90, 8, 8)
    assert rail_action(VEXT, True) == ("gpio", 3, 1) and rail_action(VEXT, False) == ("gpio", 3, 0)
    low = {"method": "gpio", "pin": 25, "active": "low"}
    assert rail_action(low, True) == ("gpio", 25, 0)
    assert rail_action(None, True) is None and rail_action({"method": "x"}, True) is None


def test_power_up_sends_the_whole_setup_after_the_receiver_speaks():
    p = GnssPower(ublox_m8, ON, CUT)
    p.request(0, CONTINUOUS)
    assert drain(p) == [("rail", ON)]
    p.tick(200)
    assert drain(p) == []  # nothing is sent to a receiver still booting
    p.on_output(400)
    sent = []
    for _ in range(10):
        acts = drain(p)
        if not acts:
            break
        assert len(acts) == 1  # one command in flight at a time
        sent.append(acts[0][1])
        reply(p, acts[0], True, 500)
    assert sent == [f for f, _ in ublox_m8.setup()]
    assert p.mode == CONTINUOUS and p.counts == {"ack": len(sent)}


def test_cyclic_acked():
    p = powered()
    p.request(1000, CYCLIC)
    a = drain(p)
    assert a == [("uart", ublox_m8.cyclic()[0][0])]
    reply(p, a[0], True, 1100)
    b = drain(p)
    assert b == [("uart", ublox_m8.cfg_rxm(1))]
    assert p.mode == CONTINUOUS  # not before its ACK
    reply(p, b[0], True, 1200)
    assert p.mode == CYCLIC and not p.busy


def test_cyclic_nak_falls_back_to_continuous_and_is_not_tried_again():
    p = powered(ublox_m10)
    p.request(1000, CYCLIC)
    a = drain(p)
    reply(p, a[0], False, 1100)
    b = drain(p)
    assert b == [("uart", ublox_m10.continuous()[0][0])]
    reply(p, b[0], True, 1200)
    assert p.mode == CONTINUOUS and p.counts["nak"] == 1 and p.counts["cyclic_refused"] == 1
    p.request(2000, CYCLIC)
    assert drain(p) == [] and p.counts["cyclic_unsupported"] == 1 and p.mode == CONTINUOUS


def test_no_ack_is_retried_then_handled_as_refused():
    p = powered()
    p.request(1000, CYCLIC)
    first = drain(p)
    p.tick(1999)
    assert drain(p) == []
    p.tick(2000)
    assert drain(p) == first  # retry 1
    p.tick(3000)
    assert drain(p) == first  # retry 2
    p.tick(4000)
    cont = drain(p)
    assert cont == [("uart", ublox_m8.cfg_rxm(0))]
    assert p.counts["retry"] == 2 and p.counts["no_reply"] == 1
    assert p.counts["cyclic_refused"] == 1
    # continuous unanswered too: the rail is cycled, the receiver boots continuous
    for t in (5000, 6000, 7000):
        p.tick(t)
        drain(p)
    assert p.counts["mode_by_rail"] == 1
    p.on_output(7600)
    assert p.mode == CONTINUOUS


def test_ack_for_something_else_is_counted_not_taken():
    p = powered()
    p.request(1000, CYCLIC)
    drain(p)
    p.on_ubx(1100, 5, 1, b"\x06\x8a")
    p.on_ubx(1100, 1, 7, bytes(92))  # a NAV-PVT: not an ACK, ignored
    assert p.counts["ack_unexpected"] == 1 and p.busy


def test_setup_nak_is_skipped_and_counted():
    p = GnssPower(ublox_m8, ON, CUT)
    p.request(0, CONTINUOUS)
    drain(p)
    p.on_output(300)
    n = 0
    while True:
        acts = drain(p)
        if not acts:
            break
        reply(p, acts[0], n != 1, 400)  # the second set-up command is refused
        n += 1
    assert n == len(ublox_m8.setup())
    assert p.counts["setup_incomplete"] == 1 and p.mode == CONTINUOUS


def test_backup_goes_quiet():
    p = powered()
    p.request(10000, BACKUP)
    assert drain(p) == [("uart", ublox_m8.rxm_pmreq(0))]
    p.on_output(10300)  # the epoch already on the wire
    p.tick(12999)
    assert p.mode == CONTINUOUS
    p.tick(13000)
    assert p.mode == BACKUP and not p.busy and "still_awake" not in p.counts


def test_receiver_still_searching_after_backup_gets_its_rail_cut():
    p = powered()
    p.request(10000, BACKUP)
    cmd = drain(p)
    p.on_output(12000)
    assert drain(p) == cmd
    p.on_output(14000)
    assert drain(p) == cmd
    p.on_output(16000)
    assert drain(p) == [("rail", CUT)]
    assert p.mode == OFF and p.counts["still_awake"] == 3 and p.counts["backup_by_rail"] == 1


def test_wake_from_backup_returns_to_the_mode_it_had():
    p = powered()
    p.request(100, CYCLIC)
    for t in (200, 300):
        reply(p, drain(p)[0], True, t)
    p.request(1000, BACKUP)
    drain(p)
    p.tick(5000)
    assert p.mode == BACKUP
    p.request(60000, CYCLIC)
    assert drain(p) == [("uart", ublox_m8.WAKE_BYTES)]
    p.on_output(60400)
    assert p.mode == CYCLIC and drain(p) == [] and not p.busy


def test_wake_without_answer_is_retried_then_the_rail_is_cycled():
    p = powered()
    p.request(1000, BACKUP)
    drain(p)
    p.tick(5000)
    p.request(60000, CONTINUOUS)
    drain(p)
    p.tick(63000)
    assert drain(p) == [("uart", ublox_m8.WAKE_BYTES)]
    p.tick(66000)
    assert drain(p) == [("uart", ublox_m8.WAKE_BYTES)]
    p.tick(69000)
    assert drain(p) == [("rail", CUT), ("rail", ON)]
    assert p.counts["wake_retry"] == 2 and p.counts["wake_by_rail"] == 1
    p.on_output(69500)
    acts = drain(p)
    assert acts == [("uart", ublox_m8.setup()[0][0])]  # configuration sent again


def test_silent_receiver_after_power_up_is_cycled_once_then_set_up_anyway():
    p = GnssPower(ublox_m8, ON, CUT)
    p.request(0, CONTINUOUS)
    drain(p)
    p.tick(3000)
    assert drain(p) == [("rail", CUT), ("rail", ON)]
    p.tick(6000)
    assert drain(p) == [("uart", ublox_m8.setup()[0][0])]
    assert p.counts["boot_silent"] == 2 and p.mode == CONTINUOUS


def test_off_cuts_the_rail_from_any_mode():
    p = powered()
    p.request(1000, OFF)
    assert drain(p) == [("rail", CUT)] and p.mode == OFF
    p.request(2000, OFF)
    assert drain(p) == []


def test_unicore_has_no_soft_sleep():
    p = powered(unicore, VEXT)
    p.request(1000, BACKUP)
    assert drain(p) == [("rail", ("gpio", 3, 0))] and p.mode == OFF
    p.request(2000, CYCLIC)
    assert drain(p) == [("rail", ("gpio", 3, 1))]
    p.on_output(2500)
    assert p.mode == CONTINUOUS
    assert p.counts["backup_by_rail"] == 1 and p.counts["cyclic_unsupported"] == 1


def test_l76k_standby_and_no_rail():
    p = powered(mtk.L76K, None)
    p.request(1000, OFF)  # no rail: standby is the nearest
    assert drain(p) == [("uart", mtk.pcas_standby(65535))]
    p.tick(4000)
    assert p.mode == BACKUP and p.counts["no_rail"] == 1
    p.request(9000, CONTINUOUS)
    assert drain(p) == [("uart", mtk.WAKE_BYTES)]
    p.on_output(9300)
    assert p.mode == CONTINUOUS


def test_no_rail_and_still_awake_says_so():
    p = powered(mtk.L76K, None)
    p.request(1000, BACKUP)
    cmd = drain(p)
    for t in (3000, 5000, 7000):
        p.on_output(t)
    assert drain(p) == cmd + cmd
    assert p.counts["backup_failed"] == 1 and p.mode == CONTINUOUS and not p.busy


def test_timeouts_across_the_tick_counter_wrap():
    w = (1 << 30) - 400
    assert ticks_diff(w + 1000 - (1 << 30), w) == 1000
    p = powered(now=w)
    p.request(w, CYCLIC)
    first = drain(p)
    p.tick((w + 999) & ((1 << 30) - 1))
    assert drain(p) == []
    p.tick((w + 1000) & ((1 << 30) - 1))
    assert drain(p) == first


def test_off_preempts_a_sequence_in_flight_and_a_boot():
    p = powered()
    p.request(1000, CYCLIC)
    drain(p)  # CFG-PM2 waits for its ACK
    p.request(1100, OFF)
    assert drain(p) == [("rail", CUT)] and p.mode == OFF and not p.busy
    p.tick(5000)
    assert drain(p) == []  # no retry of the abandoned command
    p.request(6000, CONTINUOUS)
    assert drain(p) == [("rail", ON)]
    p.request(6100, OFF)  # still booting, silent: the rail is on all the same
    assert drain(p) == [("rail", CUT)] and not p.busy
