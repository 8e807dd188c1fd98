# The tag's table of a beacon's identifiers for a bounded window (default 48 h), made by the
# host from the beacon's secret (tagkit.beaconwindow.window_blob: host code, never on the tag).
# The tag holds only the table, never the secret: a seized tag reveals the identifiers of its
# window and nothing of any other (HMAC is a PRF).
#
# Table blob (little endian), one per beacon, concatenable:
#   b"OTW1" | id_len u8 | beacon u8 | interval_s u16 | first u32 | count u16 | ids[count * id_len]
# ids[j] is the identifier of interval first + j. Lookup is a dict keyed by the identifier
# bytes: one hash, whatever the table size (no search through the window).
from tagcore.compat import const
from tagcore.proximity.beaconid import ID_LEN

MAGIC = b"OTW1"
HEADER = const(14)
MAX_BEACONS = const(16)
MAX_IDS = const(2048)  # 16 beacons x 48 h at 15 min with margins, or one beacon for 21 days


def _u16(b, i):
    return b[i] | (b[i + 1] << 8)


def _key(b, i):
    # The first 30 bits of an identifier: a small int on every port, uniform (HMAC output).
    return ((b[i] & 0x3F) << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]


def _same(a, i, b, j):
    # a[i:i+ID_LEN] == b[j:j+ID_LEN] without slicing (no allocation).
    for k in range(ID_LEN):
        if a[i + k] != b[j + k]:
            return False
    return True


class IdTable:
    """Identifiers of every loaded window, found by hashing: the identifiers are HMAC outputs,
    so their first bytes already are a uniform hash. An open-addressing index of u16 slots
    (at most half full, linear probing) points into one buffer holding all identifiers: 2 KB
    of index and 8 B per identifier, where a dict of bytes would cost about 50 B each."""

    def __init__(self):
        self.idbuf = bytearray()  # identifiers, ID_LEN bytes each, in load order
        self.n = 0  # identifiers in idbuf (sized once per load: no regrowth, no fragments)
        self.windows = []  # (first ordinal, count, beacon, first interval)
        self.index = bytearray(4)  # u16 slots: ordinal + 1, 0 = empty
        self.mask = 1
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
        if total > MAX_IDS:
            return self._reject("too_many")
        self._reindex(total)
        added = 0
        for p in pending:
            off, beacon, ivs, first, count = p
            if self.interval_s[beacon] not in (0, ivs):
                self._reject("interval_mismatch")
                continue
            self.interval_s[beacon] = ivs
            # Identifiers already known (a window loaded twice) are left out: a window is
            # split into runs of new ones.
            start = len(self)
            run_first = first
            for k in range(count + 1):
                j = off + k * ID_LEN
                if k < count and self._find(blob, j) < 0:
                    self._insert(blob, j)
                    added += 1
                    continue
                if k < count:
                    self._reject("duplicate")
                if len(self) > start:
                    self.windows.append((start, len(self) - start, beacon, run_first))
                start = len(self)
                run_first = first + k + 1
        return added

    def _reindex(self, capacity):
        # A fresh index at most half full once `capacity` identifiers are in.
        size = 4
        while size < 2 * capacity:
            size <<= 1
        self.index = bytearray(2 * size)
        self.mask = size - 1
        n = self.n
        self.idbuf, old = bytearray(capacity * ID_LEN), self.idbuf
        self.n = 0
        for o in range(n):
            self._insert(old, o * ID_LEN)

    def _insert(self, buf, i):
        o = self.n
        ids = self.idbuf
        b = o * ID_LEN
        for j in range(ID_LEN):
            ids[b + j] = buf[i + j]
        self.n = o + 1
        index = self.index
        mask = self.mask
        s = _key(buf, i) & mask
        while index[2 * s] | index[2 * s + 1]:
            s = (s + 1) & mask
        index[2 * s] = (o + 1) & 0xFF
        index[2 * s + 1] = (o + 1) >> 8

    def _find(self, buf, i):
        # Ordinal of the identifier at buf[i:i+ID_LEN], or -1.
        index = self.index
        mask = self.mask
        ids = self.idbuf
        s = _key(buf, i) & mask
        while True:
            o = index[2 * s] | (index[2 * s + 1] << 8)
            if o == 0:
                return -1
            if _same(buf, i, ids, (o - 1) * ID_LEN):
                return o - 1
            s = (s + 1) & mask

    def lookup(self, buf, i=0):
        """(beacon, interval) of the identifier at buf[i:i+ID_LEN], or None. A hash probe
        (about 1.5 slots on average at half load): no search through the window and no
        allocation."""
        o = self._find(buf, i)
        if o >= 0:
            for w in self.windows:
                if w[0] <= o < w[0] + w[1]:
                    return w[2], w[3] + o - w[0]
        return None

    def drop_before(self, k_min):
        """Forget identifiers of intervals before k_min (a used-up window costs heap)."""
        buf = bytearray()
        wins = []
        dropped = 0
        for start, count, beacon, first in self.windows:
            skip = k_min - first if k_min > first else 0
            if skip >= count:
                dropped += count
                continue
            dropped += skip
            wins.append((len(buf) // ID_LEN, count - skip, beacon, first + skip))
            buf.extend(self.idbuf[(start + skip) * ID_LEN : (start + count) * ID_LEN])
        self.idbuf = buf
        self.n = len(buf) // ID_LEN
        self.windows = wins
        self._reindex(self.n)
        return dropped

    def __len__(self):
        return self.n
