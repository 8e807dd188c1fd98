# A test double of the server's side of docs/uplink.md, small enough to run inside MicroPython
# beside the tag's core (both runtimes). It decodes with the core's own codec: the host tests
# (tests/test_uplink_oracle.py) hold that codec against cbor2 and pycose, and the real server
# (host/taghost/server/) decodes independently.
from tagcore.store import record as R
from tagcore.uplink import ack as A
from tagcore.uplink import cbor, cose, fixdecode


def run_fixes(r):
    """The fixes of a fix run record: kind 0 in the store's codec, kind 1 packed."""
    _, _, _, count, b = r
    if r[0] == 0:
        return R.decode_fixes(b, 0, len(b), count)
    return fixdecode.decode(b, count)


class ServerDouble:
    def __init__(self, key, tag_id, keep=True, max_seq=0):
        self.key = key
        self.tag_id = tag_id
        self.keep = keep
        self.recs = {}  # seq -> ("fix", Fix) | (kind, t, data), if keep
        # Without keep (a big backlog in a small heap): one bit per seq seen.
        self.bits = bytearray((max_seq >> 3) + 1) if not keep else None
        self.inserted = 0  # records stored the first time
        self.duplicates = 0  # records received again (stored once)
        self.cover = []  # merged [first, last] intervals of verified batches
        self.refused = 0
        self.batches = 0
        self.down = []  # downlink items to send with every ack
        self.held = {}
        self.alerts_at = {}  # seq of an alert event -> server time it arrived

    def acked(self):
        h = 0
        for a, b in self.cover:
            if a > h + 1:
                break
            if b > h:
                h = b
        return h

    def _cover(self, a, b):
        if b < a:
            return
        iv = self.cover
        iv.append([a, b])
        iv.sort()
        out = [iv[0]]
        for x in iv[1:]:
            if x[0] <= out[-1][1] + 1:
                if x[1] > out[-1][1]:
                    out[-1][1] = x[1]
            else:
                out.append(x)
        self.cover = out

    def _seen(self, seq):
        if self.keep:
            return seq in self.recs
        return self.bits[seq >> 3] & (1 << (seq & 7))

    def _put(self, seq, v, now):
        if self._seen(seq):
            self.duplicates += 1
            return
        self.inserted += 1
        if self.keep:
            self.recs[seq] = v
        else:
            self.bits[seq >> 3] |= 1 << (seq & 7)
        if v[0] in (R.EV_ZONE, R.EV_PROXIMITY, R.EV_TAMPER, R.EV_LOW_BATTERY):
            self.alerts_at[seq] = now

    def handle(self, body, now):
        """The ack (bytes) for a request body, or None for a refused one (nothing stored)."""
        p, why = cose.decode(self.key, self.tag_id, cose.AAD_UP, body)
        if why is not None:
            self.refused += 1
            return None
        try:
            m = cbor.decode(p)
            p = None
            ctr, first, last, recs = m[2], m[4], m[5], m[6]
            assert m[1] == self.tag_id and last >= first - 1
            for r in recs:  # check everything before storing anything
                if r[0] in (0, 1):
                    _, seq, stride, count, _ = r
                    run_fixes(r)
                    assert first <= seq and seq + (count - 1) * stride <= last and stride > 0
                else:
                    assert r[0] >= R.EV_FIRST and first <= r[1] <= last
        except (ValueError, KeyError, IndexError, TypeError, AssertionError):  # a bad batch's
            # shapes; not AttributeError or ImportError, a bug in this double or the core
            self.refused += 1
            return None
        self.batches += 1
        for r in recs:
            if r[0] in (0, 1):
                _, seq, stride, count, _b = r
                fixes = run_fixes(r) if self.keep else None
                for k in range(count):
                    self._put(seq + k * stride, ("fix", fixes[k]) if fixes else (0,), now)
            else:
                self._put(r[1], (r[0], r[2], r[3]), now)
        self._cover(first, last)
        self.held = m[7]
        return bytes(A.encode(self.key, self.tag_id, ctr, self.acked(), now, self.down))
