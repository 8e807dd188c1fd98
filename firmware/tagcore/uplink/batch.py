# A batch payload (docs/uplink.md, "Batch payload") built from the store in bounded RAM.
#
# Records are read CHUNK at a time (Store.read loads one segment into its own buffer and skips
# frames before the start without decoding them), so RAM is bounded by `max_bytes` of encoded
# records plus one chunk, never by the backlog. Consecutive fixes whose sequence numbers step
# by the same stride (up to RUN_MAX) become one packed fix run `[1, seq, stride, count, bstr]`
# (tagcore.uplink.fixcodec) across the store's frames: at 1 fix/min the store syncs about five
# fixes per frame, and one run pays its full first fix once instead of per frame.
from tagcore.compat import const
from tagcore.store import record as R
from tagcore.uplink import cbor, cose

CHUNK = const(16)  # records per Store.read
MAX_BYTES = const(4096)  # encoded records per batch (the ESP32 builds and sends it in RAM)
MAX_STRIDE = const(256)  # a larger gap between two fixes starts a new run
RUN_MAX = const(64)  # fixes per run: bounds the run's buffers (like the store's thinning)
RUN_BYTES = const(1600)  # scratch for one packed run of RUN_MAX fixes (about 8-25 B each)
FIX_RUN = const(1)  # record kind of a packed fix run (tagcore.uplink.fixcodec)
HEAD_ROOM = const(64)  # reserved before the records: COSE prefix, payload head, map head
TAIL_ROOM = const(64)  # after them: `held` (a few kinds) and the MAC

FIX_MOST = const(64)  # a fix's most: 24 B of run heads (Recs.size) and a full first fix
EVENT_HEADS = const(32)  # array(4), kind, seq, t (int), the data's bstr head
K_TAG = const(1)
K_CTR = const(2)
K_SENT = const(3)
K_FIRST = const(4)
K_LAST = const(5)
K_RECS = const(6)
K_HELD = const(7)


def _most(rec):
    """The most `rec` can add to the batch: an event's heads and data; a fix, its packed
    difference or, starting a run, the closed run's heads and its first fix in full."""
    if rec[1] == R.KIND_FIXES:
        return FIX_MOST
    return EVENT_HEADS + len(rec[2][1])


def scratch(n):
    """An empty bytearray that can grow to n bytes without reallocating (MicroPython keeps the
    capacity when a bytearray is cleared by slice assignment): allocated once, while the heap is
    whole, and reused for every batch."""
    b = bytearray(n)
    b[:] = b""
    return b


class _Recs:
    """The `recs` array being built: closed records appended to `out`, the open run apart
    (its first fix in `run`, the rest in the packer until the run closes)."""

    def __init__(self, out, run, packer):
        self.out = out
        self.n = 0  # closed records in out
        self.fixes = 0
        self.run = run
        self.pk = packer
        self.open = False
        self.rseq = 0
        self.rstride = 0

    def size(self):
        if not self.open:
            return len(self.out)
        bits = 0
        for w in self.pk.widths:
            bits += w
        return len(self.out) + len(self.run) + 24 + (bits * (self.pk.n - 1) + 7) // 8

    def close_run(self):
        if not self.open:
            return
        self.pk.finish(self.run)
        o = self.out
        o.append(0x85)  # array(5)
        o.append(FIX_RUN)
        cbor.put_head(o, cbor.UINT, self.rseq)
        cbor.put_head(o, cbor.UINT, self.rstride)
        cbor.put_head(o, cbor.UINT, self.pk.n)
        cbor.put_bytes(o, self.run)
        self.run[:] = b""
        self.n += 1
        self.open = False

    def add(self, rec):
        seq, kind, v = rec
        if kind == R.KIND_FIXES:
            self.fixes += 1
            pk = self.pk
            if self.open:
                last = self.rseq + (pk.n - 1) * self.rstride
                step = seq - last
                if pk.n == 1 and 0 < step <= MAX_STRIDE:
                    self.rstride = step
                if step == self.rstride and not pk.full():
                    pk.add(v)
                    return
                self.close_run()
            self.open = True
            self.rseq = seq
            self.rstride = 1
            pk.start(self.run, v)
            return
        self.close_run()
        o = self.out
        o.append(0x84)  # array(4): kind, seq, t, data
        cbor.put_head(o, cbor.UINT, kind)
        cbor.put_head(o, cbor.UINT, seq)
        cbor.put_int(o, v[0])
        cbor.put_bytes(o, v[1])
        self.n += 1


def build(
    store,
    key,
    tag_id,
    ctr,
    now,
    first,
    held,
    out,
    run,
    packer,
    max_bytes=MAX_BYTES,
    max_recs=0,
    room=0,
):
    """The COSE_Mac0 batch covering records from seq `first` on: records are taken while the
    batch is under `max_bytes` and `max_recs` (0: no limit), each only if it fits `room` (what
    `out` holds without growing; 0: max_bytes) beside what is there, and at least one. Built
    in `out` and `run` (scratch buffers, cleared here) with `packer` (a fixcodec.Packer of
    RUN_MAX fixes). Returns (message
    memoryview into `out`, last seq covered, records, fixes). `last` is the seq of the last
    record taken, or first - 1 when there is none (a poll). Reading stops before a chunk in
    which the store met a segment it could not read: what it did not get is never claimed
    absent."""
    if room <= 0:
        room = max_bytes
    out[:] = b""
    run[:] = b""
    for _ in range(HEAD_ROOM):
        out.append(0)
    r = _Recs(out, run, packer)
    if max_recs <= 0:
        max_recs = 0x7FFFFFFF
    last = first - 1
    nxt = first
    taken = 0
    while taken < max_recs and (taken == 0 or r.size() - HEAD_ROOM < max_bytes):
        want = CHUNK if max_recs - taken > CHUNK else max_recs - taken
        got, failed = store.read(nxt, want, True)
        if failed is not None:  # what came before the failure may go; nothing after it
            store.counts["uplink_stalled"] = store.counts.get("uplink_stalled", 0) + 1
        if not got:
            break
        short = failed is not None or len(got) < want  # the store had no more (or could not)
        for rec in got:
            # the record must fit as well as what is there: past `room` the caller's buffer
            # (sized for it, from start-up) would be reallocated, which a fragmented heap refuses
            if taken > 0 and r.size() - HEAD_ROOM + _most(rec) > room:
                short = True  # full: this record starts the next batch
                break
            r.add(rec)
            taken += 1
            last = rec[0]
        got = None
        nxt = last + 1
        if short:
            break
    r.close_run()
    out.append(K_HELD)
    kinds = sorted(held)
    cbor.put_head(out, cbor.MAP, len(kinds))
    for k in kinds:
        cbor.put_head(out, cbor.UINT, k)
        cbor.put_head(out, cbor.UINT, held[k])
    # The head goes into the room reserved before the records, ending where they start.
    h = bytearray(b"\xa7")  # map(7)
    h.append(K_TAG)
    cbor.put_bytes(h, tag_id)
    h.append(K_CTR)
    cbor.put_head(h, cbor.UINT, ctr)
    h.append(K_SENT)
    cbor.put_head(h, cbor.UINT, now if now > 0 else 0)
    h.append(K_FIRST)
    cbor.put_head(h, cbor.UINT, first)
    h.append(K_LAST)
    cbor.put_head(h, cbor.UINT, last)
    h.append(K_RECS)
    cbor.put_head(h, cbor.ARRAY, r.n)
    pstart = HEAD_ROOM - len(h)
    plen = len(out) - pstart
    pre = cose.prefix(tag_id)
    cbor.put_head(pre, cbor.BSTR, plen)
    start = pstart - len(pre)
    if start < 0:
        raise ValueError("head room")
    out[start:pstart] = pre
    out[pstart:HEAD_ROOM] = h
    out.append(0x48)  # bstr(8): the MAC
    out.extend(cose.mac_tag(key, cose.AAD_UP, out, pstart, pstart + plen))
    return memoryview(out)[start:], last, taken, r.fixes
