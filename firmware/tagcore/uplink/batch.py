# A batch payload (docs/uplink.md, "Batch payload") built from the store in bounded RAM.
#
# Records are read CHUNK at a time (Store.read loads one segment into its own buffer and skips
# frames before the start without decoding them), so RAM is bounded by `max_bytes` of encoded
# records plus one chunk, never by the backlog. Consecutive fixes whose sequence numbers step
# by the same stride become one fix run `[0, seq, stride, count, bstr]`, re-coded with
# tagcore.record's delta codec across the store's frames: at 1 fix/min the store syncs about
# five fixes per frame, and one run per batch pays the full first fix once instead of per frame.
from tagcore import record as R
from tagcore.compat import const
from tagcore.uplink import cbor

CHUNK = const(16)  # records per Store.read
MAX_BYTES = const(4096)  # encoded records per batch (the ESP32 builds and sends it in RAM)
MAX_STRIDE = const(256)  # a larger gap between two fixes starts a new run

K_TAG = const(1)
K_CTR = const(2)
K_SENT = const(3)
K_FIRST = const(4)
K_LAST = const(5)
K_RECS = const(6)
K_HELD = const(7)


class _Recs:
    """The `recs` array being built: closed records in `out`, the open fix run apart."""

    def __init__(self):
        self.out = bytearray()
        self.n = 0  # closed records in out
        self.fixes = 0
        self.run = None  # bytearray of the open run's fixes
        self.rseq = 0
        self.rstride = 0
        self.rcount = 0
        self.prev = None
        self.pmisc = 0

    def size(self):
        return len(self.out) + (len(self.run) + 12 if self.run is not None else 0)

    def close_run(self):
        if self.run is None:
            return
        o = self.out
        o.append(0x85)  # array(5)
        o.append(0)
        cbor.put_head(o, cbor.UINT, self.rseq)
        cbor.put_head(o, cbor.UINT, self.rstride)
        cbor.put_head(o, cbor.UINT, self.rcount)
        cbor.put_bytes(o, self.run)
        self.n += 1
        self.run = None

    def add(self, rec):
        seq, kind, v = rec
        if kind == R.KIND_FIXES:
            self.fixes += 1
            if self.run is not None:
                last = self.rseq + (self.rcount - 1) * self.rstride
                step = seq - last
                if self.rcount == 1 and 0 < step <= MAX_STRIDE:
                    self.rstride = step
                if step == self.rstride:
                    self.pmisc = R.encode_fix(self.run, v, self.prev, self.pmisc)
                    self.prev = v
                    self.rcount += 1
                    return
                self.close_run()
            self.run = bytearray()
            self.rseq = seq
            self.rstride = 1
            self.rcount = 1
            self.pmisc = R.encode_fix(self.run, v, None, 0)
            self.prev = v
            return
        self.close_run()
        o = self.out
        o.append(0x84)  # array(4): kind, seq, t, data
        cbor.put_head(o, cbor.UINT, kind)
        cbor.put_head(o, cbor.UINT, seq)
        cbor.put_int(o, v[0])
        cbor.put_bytes(o, v[1])
        self.n += 1


def build(store, tag_id, ctr, now, first, held, max_bytes=MAX_BYTES, max_recs=0x7FFFFFFF):
    """(payload bytearray, last seq covered, records, fixes) of the batch covering records from
    seq `first` on: as many as fit `max_bytes` (at least one) and `max_recs`. `last` is the seq
    of the last record taken, or first - 1 when there is none (a poll). Reading stops before a
    chunk in which the store met a segment it could not read: what it did not get is never
    claimed absent."""
    r = _Recs()
    last = first - 1
    nxt = first
    taken = 0
    while taken < max_recs and (taken == 0 or r.size() < max_bytes):
        bad = store.counts.get("unreadable", 0)
        want = CHUNK if max_recs - taken > CHUNK else max_recs - taken
        got = store.read(nxt, want, True)
        if store.counts.get("unreadable", 0) != bad:
            store.counts["uplink_stalled"] = store.counts.get("uplink_stalled", 0) + 1
            break
        if not got:
            break
        for rec in got:
            if taken > 0 and r.size() >= max_bytes:
                break
            r.add(rec)
            taken += 1
            last = rec[0]
        nxt = last + 1
        if len(got) < want:
            break
    r.close_run()
    p = bytearray(b"\xa7")  # map(7)
    p.append(K_TAG)
    cbor.put_bytes(p, tag_id)
    p.append(K_CTR)
    cbor.put_head(p, cbor.UINT, ctr)
    p.append(K_SENT)
    cbor.put_head(p, cbor.UINT, now if now > 0 else 0)
    p.append(K_FIRST)
    cbor.put_head(p, cbor.UINT, first)
    p.append(K_LAST)
    cbor.put_head(p, cbor.UINT, last)
    p.append(K_RECS)
    cbor.put_head(p, cbor.ARRAY, r.n)
    p.extend(r.out)
    r.out = None
    p.append(K_HELD)
    kinds = sorted(held)
    cbor.put_head(p, cbor.MAP, len(kinds))
    for k in kinds:
        cbor.put_head(p, cbor.UINT, k)
        cbor.put_head(p, cbor.UINT, held[k])
    return p, last, taken, r.fixes
