# A batch payload (docs/uplink.md, "Batch payload") built from the store in bounded RAM.
#
# Records are taken straight from the store's frames (one segment at a time in the store's own
# read buffer, as Store.read walks them; frames before the start are skipped undecoded), each
# fix decoded into one reused list and each event's data a view of the segment: no record
# object per record (Store.read's Fix tuples made a 32-fix frame about 6 KB of small blocks,
# and at the heap's edge a fragmented heap refused them: read_nomem, no batch). The records and
# the batch's bounds are what reading CHUNK at a time with Store.read gave, byte for byte
# (tests/core/test_uplink_batch.py holds it against that reference). RAM is bounded by
# `max_bytes` of encoded records, never by the backlog. Consecutive fixes whose sequence
# numbers step by the same stride (up to RUN_MAX) become one packed fix run
# `[1, seq, stride, count, bstr]` (tagcore.uplink.fixcodec) across the store's frames: at
# 1 fix/min the store syncs about five fixes per frame, and one run pays its full first fix
# once instead of per frame.
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
        self.add3(rec[0], rec[1], rec[2])

    def add3(self, seq, kind, v):
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


class _Fill:
    """Takes the records from seq `first` on into `r` (a _Recs), from the store's frames and
    then its RAM buffer, while they fit: the same records, in the same batches, as reading
    CHUNK records at a time with Store.read(nxt, CHUNK, True) (the size bound is checked where
    such a read ended). A segment it cannot read (or load for lack of memory) stops it: what
    came before goes, nothing after it (counted uplink_stalled, as before)."""

    def __init__(self, st, r, first, max_recs, max_bytes, room):
        self.st = st
        self.r = r
        self.first = first
        self.max_recs = max_recs
        self.max_bytes = max_bytes
        self.room = room
        self.taken = 0
        self.last = first - 1
        self.v = r.pk.cur  # one fix's fields, decoded in place (the packer's own list)

    def offer(self, seq, kind, v):
        """Take one record (v: the fix's fields, or (t, data)); False when the batch is done."""
        r = self.r
        # the most it can add: an event's heads and data; a fix, its packed difference or,
        # starting a run, the closed run's heads and its first fix in full
        most = FIX_MOST if kind == R.KIND_FIXES else EVENT_HEADS + len(v[1])
        # the record must fit as well as what is there: past `room` the caller's buffer
        # (sized for it, from start-up) would be reallocated, which a fragmented heap refuses
        if self.taken > 0 and r.size() - HEAD_ROOM + most > self.room:
            return False  # full: this record starts the next batch
        r.add3(seq, kind, v)
        self.taken += 1
        self.last = seq
        n = self.taken
        if n % CHUNK == 0 or n == self.max_recs:  # where a CHUNK read ended
            return n < self.max_recs and r.size() - HEAD_ROOM < self.max_bytes
        return True

    def walk(self):
        st = self.st
        first = self.first
        from tagcore.store.log import _segname

        for sg in st.segs:
            if sg[2] < first or sg[3] == 0:  # SEG_LAST, SEG_SIZE
                continue
            data = frames = None
            if sg[3] > 0:
                try:
                    data = st._load(_segname(sg[0]))
                    frames = st.frames(data, sg[1] - 1, first)  # its generator: allocated here too
                except MemoryError:
                    st._count("read_nomem")
            if data is None:  # a hole, unreadable, or no memory: nothing after it
                st.counts["uplink_stalled"] = st.counts.get("uplink_stalled", 0) + 1
                return
            if not self._segment(data, frames):
                return
            data = frames = None
        buf = st.buf
        for k in range(len(buf)):
            s = st.buf_seq + k
            if s >= first and not self.offer(s, R.KIND_FIXES, buf[k]):
                return

    def _segment(self, data, frames):
        # The frames of one segment (Store.frames, as Store.read walks them); False when done.
        for i in frames:
            kind = data[i + 1]
            if kind == R.KIND_FIXES:
                if not self._fixes(data, i, R.frame_len(data, i)):
                    return False
            elif kind != R.KIND_MARK:
                end = i + R.frame_len(data, i) - 4
                u, p = R.get_varint(data, i + R.HEADER, end)
                ev = (R.unzz(u), memoryview(data)[p:end])
                if not self.offer(R.frame_seq(data, i), kind, ev):
                    return False
        return True

    def _fixes(self, data, i, ln):
        # Each fix of the frame with seq >= first, decoded into self.v (R.decode_fixes'
        # arithmetic, without a Fix per fix); False when done.
        v = self.v
        p = i + R.HEADER
        end = i + ln - 4
        count = data[p]
        stride = data[p + 1]
        p += 2
        seq = R.frame_seq(data, i)
        first = self.first
        pmisc = 0
        for k in range(count):
            p, pmisc = R.fix_into(v, data, p, end, k, pmisc)
            if seq >= first and not self.offer(seq, R.KIND_FIXES, v):
                return False
            seq += stride
        return True


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
    f = _Fill(store, r, first, max_recs, max_bytes, room)
    f.walk()
    last = f.last
    taken = f.taken
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
