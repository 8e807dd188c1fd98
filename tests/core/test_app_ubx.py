# The UBX frames TagApp takes out of the receiver's stream (the model plan: cfg.gnss_plan 1 and
# the board's GNSS): the ACKs reach the power state machine and the receiver's own jamming and
# spoofing reports (UBX-MON-RF, NAV-STATUS) reach the integrity checks, however the UART cut
# the stream into chunks. Both runtimes.
from gnsstest import COSTS, M8
from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.gnss import integrity as I
from tagcore.gnss import ublox_m8
from tagcore.gnss.power import GnssPower
from tagcore.gnss.ubx import frame
from tagcore.store import record as R
from tagkit.memfs import MemFs

T0 = 800000000
MPY_HEAP = 196608
NMEA = b"$GPGGA,120000.00,5230.0000,N,01320.0000,E,1,08,1.0,35.0,M,47.0,M,,*5B\r\n"


def mon_rf(jamming, jam_ind=200, agc=600):
    """UBX-MON-RF version 0, one RF block (u-blox M8 protocol spec: 4-byte header, 24-byte
    blocks; flags bits 0-1 jammingState, agcCnt at 14, jamInd at 16), written out by hand."""
    blk = bytearray(24)
    blk[1] = jamming & 3
    blk[14] = agc & 0xFF
    blk[15] = agc >> 8
    blk[16] = jam_ind
    return frame(0x0A, 0x38, bytes((0, 1, 0, 0)) + bytes(blk))


def nav_status(spoof):
    p = bytearray(16)
    p[7] = (spoof & 3) << 3  # flags2 bits 3-4: spoofDetState
    return frame(0x01, 0x03, bytes(p))


def _tag():
    gnss = (M8, GnssPower(ublox_m8, None, None), COSTS)
    tag = TagApp(TagConfig(gnss_plan=1, upload_interval_s=86400), MemFs(), T0, gnss=gnss)
    tag.take_events()
    tag.take_gnss_actions()
    return tag


def _feed(tag, now, data, chunk):
    for i in range(0, len(data), chunk):
        tag.uart(now, data[i : i + chunk])
    tag.uart_idle(now)


def test_the_receivers_jamming_report_in_the_stream_reaches_the_integrity_checks():
    for chunk in (1, 3, 7, 16, 64, 1000):  # every way the UART may cut it
        tag = _tag()
        for k in (1, 2):  # two critical reports in a row: the receiver says it is jammed
            _feed(tag, T0 + k, NMEA + mon_rf(3) + NMEA, chunk)
        ev = tag.take_events()
        got = [e for e in ev if e[0] == "I"]
        assert got == [("I", T0 + 2, I.K_RX_JAMMING, T0 + 2)], (chunk, ev)
        assert any(e[0] == "U" for e in ev)  # an alert: the upload brought forward to now
        recs, _ = tag.store.read(1, 16)
        assert R.EV_INTEGRITY in [r[1] for r in recs]


def test_a_quiet_rf_report_and_a_single_warning_raise_nothing():
    tag = _tag()
    for k in range(1, 6):
        _feed(tag, T0 + k, NMEA + mon_rf(1 if k % 2 else 3) + NMEA, 16)
    assert [e for e in tag.take_events() if e[0] == "I"] == []


def test_the_receivers_spoofing_report_in_the_stream_reaches_the_integrity_checks():
    tag = _tag()
    for k in (1, 2):
        _feed(tag, T0 + k, nav_status(2) + NMEA, 5)
    got = [e for e in tag.take_events() if e[0] == "I"]
    assert got == [("I", T0 + 2, I.K_RX_SPOOFING, T0 + 2)]


def test_acks_in_the_same_stream_still_reach_the_power_state_machine():
    tag = _tag()
    pw = tag.power
    tag.uart(T0, NMEA)  # the receiver speaks after its rail came on: set-up goes out
    tag.uart_idle(T0)
    sent = [a[1] for a in tag.take_gnss_actions() if a[0] == "uart"]
    assert sent and sent[0] == ublox_m8.setup()[0][0]
    ack = frame(0x05, 0x01, bytes((sent[0][2], sent[0][3])))
    _feed(tag, T0 + 1, NMEA + mon_rf(3) + ack + NMEA, 4)
    assert pw.counts.get("ack") == 1
    assert tag.take_gnss_actions()[0] == ("uart", ublox_m8.setup()[1][0])
