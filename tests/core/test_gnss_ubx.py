# The UBX framer shares one UART stream with the NMEA reader. Both runtimes.
from nmeatest import cs
from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.ubx import PAYLOAD_MAX, QUEUE_MAX, SKIP_MAX, UbxFramer, ack_of, checksum, frame

# ../shared/reference/gnss-commands.txt (known-good, not built here)
CFG_RXM_PS = bytes.fromhex("B5620611020008012292")
MON_VER_POLL = bytes.fromhex("B5620A0400000E34")
# an ACK-ACK for CFG-RXM and an ACK-NAK for CFG-PM2 as pyubx2 1.4 serialises them
ACK_RXM = bytes.fromhex("B5620501020006111F48")
NAK_PM2 = bytes.fromhex("B56205000200063B486D")

GGA = cs("GPGGA,123519.00,4807.03800,N,01131.00000,E,1,08,0.9,545.4,M,46.9,M,,") + b"\r\n"
RMC = cs("GPRMC,123519.00,A,4807.03800,N,01131.00000,E,0.0,0.0,230326,,,A") + b"\r\n"


def feed_all(data, chunk):
    fr = UbxFramer()
    r = NmeaReader()
    msgs = []
    for i in range(0, len(data), chunk):
        fr.feed(data[i : i + chunk], -1, r)
        while True:
            m = fr.pop()
            if m is None:
                break
            msgs.append(m)
    return fr, r, msgs


def accounted(fr, total):
    return fr.passed + fr.framed + fr.dropped + fr.held == total


def test_builder_reproduces_known_vectors():
    assert frame(6, 0x11, b"\x08\x01") == CFG_RXM_PS
    assert frame(0x0A, 4) == MON_VER_POLL
    assert frame(5, 1, b"\x06\x11") == ACK_RXM
    assert frame(5, 0, b"\x06\x3b") == NAK_PM2
    assert checksum(CFG_RXM_PS, 2, 8) == (0x22, 0x92)


def test_acks_between_sentences_at_every_chunk_size():
    data = GGA + ACK_RXM + RMC + NAK_PM2 + GGA
    for chunk in range(1, len(data) + 1):
        fr, r, msgs = feed_all(data, chunk)
        assert [ack_of(*m) for m in msgs] == [(True, 6, 0x11), (False, 6, 0x3B)]
        assert r.sentences == 3, chunk
        assert r.counts.get("junk_bytes", 0) == 0  # the NMEA reader never saw a UBX byte
        assert fr.counts == {}
        assert accounted(fr, len(data))
        assert fr.passed == len(data) - len(ACK_RXM) - len(NAK_PM2)


def test_a_frame_inside_a_sentence_cuts_nothing_else():
    # A frame that lands between two bytes of a sentence (the receiver interleaves output on
    # some firmware): the sentence's halves meet again in the reader, the frame is kept.
    data = GGA[:20] + ACK_RXM + GGA[20:]
    for chunk in (1, 3, 7, len(data)):
        _fr, r, msgs = feed_all(data, chunk)
        assert len(msgs) == 1 and r.sentences == 1 and r.counts == {}


def test_bad_checksum_is_dropped_and_counted():
    bad = bytearray(ACK_RXM)
    bad[-1] ^= 0x55
    data = GGA + bytes(bad) + RMC
    for chunk in (1, 5, len(data)):
        fr, r, msgs = feed_all(data, chunk)
        assert msgs == [] and fr.counts == {"bad_checksum": 1}
        assert r.sentences == 2 and accounted(fr, len(data))
        assert fr.dropped == len(ACK_RXM)


def test_lone_sync_bytes_go_to_the_nmea_reader_as_junk():
    data = b"\xb5" + GGA + b"\xb5\xb5" + RMC + b"\xb5"
    fr, r, msgs = feed_all(data, 1)
    assert msgs == [] and fr.counts == {}
    assert r.counts.get("junk_bytes") == 3 and r.sentences == 2
    assert fr.held == 1 and accounted(fr, len(data))  # the last B5 waits for its next byte


def test_long_frames_are_skipped_by_length_and_absurd_lengths_released():
    n = PAYLOAD_MAX + 10
    long_frame = frame(1, 0x35, bytes(n))  # NAV-SAT sized: plausible, not kept
    data = GGA + long_frame + RMC
    fr, r, msgs = feed_all(data, 9)
    assert msgs == [] and fr.counts == {"too_long": 1} and r.sentences == 2
    assert accounted(fr, len(data))
    absurd = b"\xb5\x62\x01\x35" + bytes(((SKIP_MAX + 1) & 0xFF, (SKIP_MAX + 1) >> 8))
    data = absurd + GGA + RMC
    fr, r, msgs = feed_all(data, 4)
    assert fr.counts == {"bad_length": 1}
    assert r.sentences == 2  # the NMEA after a corrupt length is not swallowed
    assert accounted(fr, len(data))


def test_queue_is_capped_and_counts_overflow():
    fr = UbxFramer()
    for _ in range(QUEUE_MAX + 3):
        fr.feed(ACK_RXM)
    assert len(fr.queue) == QUEUE_MAX and fr.counts == {"queue_overflow": 3}


def test_reused_buffer_with_n():
    buf = bytearray(64)
    fr = UbxFramer()
    r = NmeaReader()
    buf[0 : len(ACK_RXM)] = ACK_RXM
    fr.feed(buf, len(ACK_RXM), r)
    assert len(fr.queue) == 1 and fr.passed == 0
    buf[0:10] = GGA[:10]
    fr.feed(buf, 10, r)
    fr.feed(GGA[10:], -1, r)
    assert r.sentences == 1


def test_flush_drops_an_unfinished_frame_and_counts_it():
    fr, r, _msgs = feed_all(GGA + ACK_RXM[:7], 4)
    assert fr.held == 7
    fr.flush()
    assert fr.held == 0 and fr.counts == {"truncated": 1} and accounted(fr, len(GGA) + 7)
    fr.feed(RMC, -1, r)
    assert r.sentences == 2
