# UBX binary protocol: frame builder and an incremental framer that shares the UART with NMEA.
#
# One byte stream carries both NMEA sentences and UBX frames (ACKs, replies to polls). The
# framer sees every chunk first: a UBX frame (sync B5 62, class, id, little-endian length,
# payload, two Fletcher checksum bytes) is taken out and queued; every other byte goes on to the
# sink (an NmeaReader) in order. NMEA is printable ASCII, so 0xB5 never occurs in a sentence and
# the split is exact on a clean line. On a damaged line: a B5 not followed by 62 goes to the
# sink (the NMEA reader counts it as junk); a frame with a bad checksum is dropped and counted
# `bad_checksum`; a length beyond what the framer keeps is skipped by its length and counted
# `too_long` if small enough to be plausible, else the header is handed to the sink and counted
# `bad_length` (a corrupted length must not swallow a minute of NMEA). Byte accounting:
# passed + framed + dropped + held == bytes fed, always.
from tagcore.compat import const

SYNC1 = const(0xB5)
SYNC2 = const(0x62)
PAYLOAD_MAX = const(160)  # MON-VER with four extension strings; ACKs are 2 bytes
SKIP_MAX = const(1024)  # longer claimed lengths are damage, not a frame (NAV-SAT fits below)
QUEUE_MAX = const(8)  # a 256-byte UART read holds up to 25 ACKs; the pump drains per read
_OUT = const(128)  # scratch for bytes after a frame that go on to the sink

CLS_ACK = const(0x05)
ID_ACK = const(0x01)
ID_NAK = const(0x00)


def checksum(buf, a=0, b=-1):
    """The 8-bit Fletcher checksum (ck_a, ck_b) over buf[a:b] (class to end of payload)."""
    if b < 0:
        b = len(buf)
    ca = 0
    cb = 0
    for i in range(a, b):
        ca = (ca + buf[i]) & 0xFF
        cb = (cb + ca) & 0xFF
    return ca, cb


def frame(cls, mid, payload=b""):
    """A complete UBX frame for class/id and payload bytes."""
    n = len(payload)
    f = bytearray(8 + n)
    f[0] = SYNC1
    f[1] = SYNC2
    f[2] = cls
    f[3] = mid
    f[4] = n & 0xFF
    f[5] = n >> 8
    f[6 : 6 + n] = payload
    ca, cb = checksum(f, 2, 6 + n)
    f[6 + n] = ca
    f[7 + n] = cb
    return bytes(f)


def u2(v):
    return bytes((v & 0xFF, (v >> 8) & 0xFF))


def u4(v):
    return bytes((v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF))


def ack_of(cls, mid, payload):
    """An ACK-ACK / ACK-NAK as (acked, acked class, acked id); None for any other message."""
    if cls != CLS_ACK or len(payload) != 2 or (mid != ID_ACK and mid != ID_NAK):
        return None
    return mid == ID_ACK, payload[0], payload[1]


def _bump(counts, key, k=1):
    counts[key] = counts.get(key, 0) + k


class UbxFramer:
    def __init__(self):
        self.buf = bytearray(6 + PAYLOAD_MAX + 2)  # the frame being assembled
        self.blen = 0  # bytes of it held; 0 = between frames
        self.need = 0  # its full length once the header is in; 0 = header not complete
        self.skip = 0  # bytes still to discard of a too-long frame
        self.out = bytearray(_OUT)
        self.queue = []  # (class, id, payload bytes)
        self.counts = {}
        # byte accounting (tests and the serial console)
        self.passed = 0  # handed to the sink
        self.framed = 0  # in frames with a good checksum
        self.dropped = 0  # in damaged or too-long frames

    def pop(self):
        """The oldest (class, id, payload) received, or None."""
        q = self.queue
        return q.pop(0) if q else None

    @property
    def held(self):
        return self.blen

    def flush(self):
        """The line went quiet: a frame still open will never finish. It is dropped and counted
        `truncated` (its bytes were no NMEA: they began with the UBX sync)."""
        if self.blen:
            _bump(self.counts, "truncated")
            self.dropped += self.blen
            self.blen = 0
            self.need = 0
        self.skip = 0

    def feed(self, data, n=-1, sink=None):
        """Take a chunk (only its first n bytes if n >= 0). UBX frames are queued; every other
        byte goes to sink.feed(buf, n) in stream order. Returns how many frames are queued."""
        if n < 0 or n > len(data):
            n = len(data)
        i = 0
        while i < n:
            if self.skip:
                k = min(self.skip, n - i)
                self.skip -= k
                self.dropped += k
                i += k
                continue
            if self.blen:
                i = self._frame(data, i, n, sink)
                continue
            d = data.find(b"\xb5", i, n)
            if d < 0:
                self._pass(data, i, n, sink)
                break
            self._pass(data, i, d, sink)
            self.buf[0] = SYNC1
            self.blen = 1
            i = d + 1
        return len(self.queue)

    def _pass(self, data, a, b, sink):
        if b <= a:
            return
        self.passed += b - a
        if sink is None:
            return
        if a == 0:
            sink.feed(data, b)
            return
        out = self.out
        mv = memoryview(data)
        while a < b:
            k = min(b - a, _OUT)
            out[0:k] = mv[a : a + k]
            sink.feed(out, k)
            a += k

    def _release(self, k, sink):
        """The first k held bytes were not a frame: they go to the sink as they came."""
        self.blen = 0
        self.need = 0
        self.passed += k
        if sink is not None:
            sink.feed(self.buf, k)

    def _frame(self, data, i, n, sink):
        buf = self.buf
        while self.need == 0 and i < n:  # the header, byte by byte
            c = data[i]
            bl = self.blen
            if bl == 1 and c != SYNC2:
                self._release(1, sink)  # a lone B5: the byte at i is looked at again
                return i
            buf[bl] = c
            bl += 1
            self.blen = bl
            i += 1
            if bl == 6:
                ln = buf[4] | (buf[5] << 8)
                if ln > PAYLOAD_MAX:
                    if ln + 2 <= SKIP_MAX:
                        _bump(self.counts, "too_long")
                        self.dropped += 6
                        self.skip = ln + 2
                        self.blen = 0
                    else:
                        _bump(self.counts, "bad_length")
                        self._release(6, sink)
                    return i
                self.need = 8 + ln
        if self.need == 0:
            return i
        k = min(self.need - self.blen, n - i)
        bl = self.blen
        buf[bl : bl + k] = memoryview(data)[i : i + k]
        self.blen = bl + k
        i += k
        if self.blen == self.need:
            self._done()
        return i

    def _done(self):
        buf = self.buf
        m = self.need
        self.blen = 0
        self.need = 0
        ca, cb = checksum(buf, 2, m - 2)
        if ca != buf[m - 2] or cb != buf[m - 1]:
            _bump(self.counts, "bad_checksum")
            self.dropped += m
            return
        self.framed += m
        q = self.queue
        if len(q) >= QUEUE_MAX:
            q.pop(0)
            _bump(self.counts, "queue_overflow")
        q.append((buf[2], buf[3], bytes(buf[6 : m - 2])))


# ---- the receiver's own integrity flags (u-blox M8/M10/F9 interface descriptions) ----------
CLS_NAV = const(0x01)
ID_NAV_STATUS = const(0x03)
CLS_MON = const(0x0A)
ID_MON_RF = const(0x38)
CLS_SEC = const(0x27)
ID_SEC_SIG = const(0x09)
SRC_MON_RF = const(1)
SRC_NAV_STATUS = const(2)
SRC_SEC_SIG = const(3)


def integrity_of(cls, mid, payload):
    """What UBX-MON-RF, UBX-NAV-STATUS or UBX-SEC-SIG says about jamming and spoofing, as
    (source, jamming state, spoofing state, jamInd, agcCnt); -1 where the message says nothing.
    States as u-blox numbers them: jamming 0 unknown, 1 ok, 2 warning, 3 critical; spoofing
    0 unknown, 1 none, 2 indicated, 3 multiple indications / affirmed. MON-RF: the worst of its
    RF blocks (highest state and jamInd, lowest AGC). None for any other or a short message."""
    n = len(payload)
    if cls == CLS_MON and mid == ID_MON_RF:
        if n < 4 or n < 4 + 24 * payload[1]:
            return None
        jam = -1
        ind = -1
        agc = -1
        for b in range(4, 4 + 24 * payload[1], 24):
            s = payload[b + 1] & 3
            if s > jam:
                jam = s
            a = payload[b + 14] | (payload[b + 15] << 8)
            if agc < 0 or a < agc:
                agc = a
            if payload[b + 16] > ind:
                ind = payload[b + 16]
        return (SRC_MON_RF, jam, -1, ind, agc)
    if cls == CLS_NAV and mid == ID_NAV_STATUS:
        if n < 16:
            return None
        return (SRC_NAV_STATUS, -1, (payload[7] >> 3) & 3, -1, -1)
    if cls == CLS_SEC and mid == ID_SEC_SIG:
        if n >= 12 and payload[0] == 1:  # version 1 (M10 SPG 5.10)
            jf = payload[4]
            sf = payload[8]
            return (
                SRC_SEC_SIG,
                (jf >> 1) & 3 if jf & 1 else -1,
                (sf >> 1) & 7 if sf & 1 else -1,
                -1,
                -1,
            )
        if n >= 4 and payload[0] == 2:  # version 2 (F9 HPG 1.50, M10 SPG 6)
            f = payload[1]
            return (
                SRC_SEC_SIG,
                (f >> 1) & 3 if f & 1 else -1,
                (f >> 4) & 7 if f & 8 else -1,
                -1,
                -1,
            )
    return None
