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


class IdTable:
    def __init__(self):
        self.ids = {}  # identifier bytes -> interval * MAX_BEACONS + beacon (a small int)
        self.interval_s = [0] * MAX_BEACONS  # 0: no window loaded for that beacon
        self.span = [None] * MAX_BEACONS  # (first, last) interval per beacon
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
            if beacon >= MAX_BEACONS or ivs == 0:
                return self._reject("bad_header")
            end = i + HEADER + count * idl
            if end > n:
                return self._reject("truncated")
            pending.append((i + HEADER, beacon, ivs, first, count))
            i = end
        total = len(self.ids)
        for p in pending:
            total += p[4]
        if total > MAX_IDS:
            return self._reject("too_many")
        added = 0
        for p in pending:
            j, beacon, ivs, first, count = p
            if self.interval_s[beacon] not in (0, ivs):
                self._reject("interval_mismatch")
                continue
            self.interval_s[beacon] = ivs
            for k in range(count):
                key = bytes(blob[j + k * ID_LEN : j + (k + 1) * ID_LEN])
                if key in self.ids:
                    self._reject("duplicate")
                    continue
                self.ids[key] = (first + k) * MAX_BEACONS + beacon
                added += 1
            sp = self.span[beacon]
            last = first + count - 1
            if sp is None:
                self.span[beacon] = (first, last)
            else:
                self.span[beacon] = (min(sp[0], first), max(sp[1], last))
        return added

    def lookup(self, ident):
        """(beacon, interval) of an identifier, or None: one dict probe."""
        v = self.ids.get(ident)
        if v is None:
            return None
        return v % MAX_BEACONS, v // MAX_BEACONS

    def drop_before(self, k_min):
        """Forget identifiers of intervals before k_min (a used-up window costs heap)."""
        old = [key for key, v in self.ids.items() if v // MAX_BEACONS < k_min]
        for key in old:
            del self.ids[key]
        return len(old)

    def __len__(self):
        return len(self.ids)
