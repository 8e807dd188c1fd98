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
