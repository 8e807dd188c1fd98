# The tag's table of a beacon's identifiers for a bounded window (default 48 h), made by the
# host from the beacon's secret. The tag holds only the table, never the secret: a seized tag
# reveals the identifiers of its window and nothing of any other (HMAC is a PRF).
#
# Table blob (little endian), one per beacon, concatenable:
#   b"OTW1" | id_len u8 | beacon u8 | interval_s u16 | first u32 | count u16 | ids[count * id_len]
# ids[j] is the identifier of interval first + j. Lookup is a dict keyed by the identifier
# bytes: one hash, whatever the table size (no search through the window).
from tagcore.beaconid import DEFAULT_INTERVAL_S, ID_LEN, rolling_id
from tagcore.compat import const

MAGIC = b"OTW1"
HEADER = const(14)
MAX_BEACONS = const(16)
MAX_IDS = const(2048)  # 16 beacons x 48 h at 15 min with margins, or one beacon for 21 days


def _u16(b, i):
    return b[i] | (b[i + 1] << 8)


def window_blob(secret, beacon, first, count, interval_s=DEFAULT_INTERVAL_S):
    """The table blob for intervals first .. first + count - 1 (host side; needs the secret)."""
    b = bytearray(MAGIC)
    b.append(ID_LEN)
    b.append(beacon)
    b.append(interval_s & 0xFF)
    b.append(interval_s >> 8)
    for s in (0, 8, 16, 24):
        b.append((first >> s) & 0xFF)
    b.append(count & 0xFF)
    b.append(count >> 8)
    for k in range(first, first + count):
        b.extend(rolling_id(secret, k))
    return bytes(b)


def _key(b, i):
    # The first 30 bits of an identifier: a small int on every port (no heap for the key).
    return ((b[i] & 0x3F) << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]


def _same(a, i, b, j):
    # a[i:i+ID_LEN] == b[j:j+ID_LEN] without slicing (no allocation).
    for k in range(ID_LEN):
        if a[i + k] != b[j + k]:
            return False
    return True


class IdTable:
    def __init__(self):
        # 30-bit identifier prefix -> window number * 4096 + index in that window (small ints;
        # the full 8 bytes are checked against the window's blob). Prefixes shared by two
        # identifiers (about 1 in 500 tables of 2,048) go to `clash`, keyed by the bytes.
        self.ids = {}
        self.clash = {}
        self.windows = []  # (blob, offset of its ids, beacon, first interval, count)
        self.interval_s = [0] * MAX_BEACONS  # 0: no window loaded for that beacon
        self.counts = {}

    def _reject(self, why):
        self.counts[why] = self.counts.get(why, 0) + 1
        return 0

    def load(self, blob):
        """Add every window in `blob`; returns how many identifiers were added. A malformed
        blob is rejected whole (counted), never half-loaded."""
        n = len(blob)
        i = 0
        pending = []
        total = len(self)
        while i < n:
            if n - i < HEADER:
                return self._reject("truncated")
            if bytes(blob[i : i + 4]) != MAGIC:
                return self._reject("bad_magic")
            idl = blob[i + 4]
            beacon = blob[i + 5]
            ivs = _u16(blob, i + 6)
            first = _u16(blob, i + 8) | (_u16(blob, i + 10) << 16)
            count = _u16(blob, i + 12)
            if idl != ID_LEN:
                return self._reject("id_len")
            if beacon >= MAX_BEACONS or ivs == 0 or first >= 1 << 30:
                return self._reject("bad_header")
            end = i + HEADER + count * idl
            if end > n:
                return self._reject("truncated")
            pending.append((i + HEADER, beacon, ivs, first, count))
            total += count
            i = end
        if total > MAX_IDS or len(self.windows) + len(pending) > 64:
            return self._reject("too_many")
        blob = bytes(blob)
        added = 0
        for p in pending:
            off, beacon, ivs, first, count = p
            if self.interval_s[beacon] not in (0, ivs):
                self._reject("interval_mismatch")
                continue
            self.interval_s[beacon] = ivs
            w = len(self.windows)
            self.windows.append((blob, off, beacon, first, count))
            for k in range(count):
                j = off + k * ID_LEN
                if self.lookup(blob, j) is not None:
                    self._reject("duplicate")
                    continue
                key = _key(blob, j)
                v = w * 4096 + k
                if key in self.ids:
                    self.clash[bytes(blob[j : j + ID_LEN])] = v
                else:
                    self.ids[key] = v
                added += 1
        return added

    def _at(self, v):
        w = self.windows[v >> 12]
        return w[2], w[3] + (v & 4095)

    def lookup(self, buf, i=0):
        """(beacon, interval) of the identifier at buf[i:i+ID_LEN], or None: one dict probe
        and an 8-byte compare, whatever the size of the table; no allocation."""
        v = self.ids.get(_key(buf, i))
        if v is None:
            return None
        w = self.windows[v >> 12]
        if _same(buf, i, w[0], w[1] + (v & 4095) * ID_LEN):
            return self._at(v)
        if self.clash:
            v = self.clash.get(bytes(buf[i : i + ID_LEN]))
            if v is not None:
                return self._at(v)
        return None

    def drop_before(self, k_min):
        """Forget identifiers of intervals before k_min (a used-up window costs heap)."""
        n = 0
        for d in (self.ids, self.clash):
            old = [key for key, v in d.items() if self._at(v)[1] < k_min]
            for key in old:
                del d[key]
            n += len(old)
        return n

    def __len__(self):
        return len(self.ids) + len(self.clash)
