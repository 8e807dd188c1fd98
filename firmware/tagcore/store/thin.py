# Thinning: the store's merge of two segments into one, keeping every other fix of each run
# (tagcore.store.log imports this at its first merge: a log that never reaches its budget never
# loads it). See docs/store.md, "Flash full: thinning".
import binascii

from tagcore.store import log as S
from tagcore.store import record as R


def varints(data, i, ln, k):
    # the first k varints of a frame's payload (after an event's time), 0 for any missing
    p = i + R.HEADER
    end = i + ln - 4
    if data[i + 1] != R.KIND_MARK:
        p = R.skip_varint(data, p, end)
    out = []
    for _ in range(k):
        v = 0
        if 0 <= p < end:
            try:
                v, p = R.get_varint(data, p, end)
            except ValueError:
                p = end
        out.append(v)
    return out


def note_mark(st, data, i, ln):
    t, lo, hi = varints(data, i, ln, 3)
    if t > st.mark[0]:
        st.mark = [t, lo, hi]


def note_logged(st, t):
    if t > st.logged:
        st.logged = t


def put_file(st, name, b, times=1):
    """Write a whole small file; False on OSError (ENOSPC). The file is closed on the
    error path only for an OSError: nothing may stand in for a BaseException."""
    try:
        f = st.fs.open(name, "wb")
    except OSError:
        return False
    try:
        for _ in range(times):
            f.write(b)
    except OSError:
        try:
            f.close()
        except OSError:
            pass
        return False
    try:
        f.close()
    except OSError:
        return False
    return True


def drop_data(p):
    # p: [count, first, last, carried, total] (the store's pending drop): tagcore.events
    # Dropped's data. The store writes its accounts with record.varints, the codec events.py
    # documents and decodes, so that thinning never loads the events module's heap.
    return R.varints(p)


def log_accounts(st):
    # The merge's KIND_MARK already says, atomically with it, what went; this event says it
    # in one record the server cannot miss. Logging it may roll a segment and thin again,
    # hence the loop. Data: count, first, last seq, cumulative total (recovery compares
    # the total with the newest mark's to log what a cut kept from being logged).
    st.logging_thin = True
    try:
        while st.drop_pend:
            seq = st._take()
            if not seq:  # no room for the floor: logged after a later write
                break
            d = drop_data(st.drop_pend)
            st.drop_pend = None
            fr = R.frame(R.EV_DROPPED, seq, R.event_payload(st.now, d))
            if st._write(fr, seq, seq) and not st.drop_pend:
                st._rm(S.DROP_INTENT)
                if st.reserve > 0 and not st.has_reserve:
                    st._make_reserve()  # room was made: take the reserve back
            if not st.buf:
                st.buf_seq = st.next_seq
        while st.thin_pend:
            seq = st._take()
            if not seq:
                break
            n, lo, hi = st.thin_pend
            st.thin_pend = None
            d = R.varints((n, lo, hi, st.thin_total))  # tagcore.events Thinned
            fr = R.frame(R.EV_THINNED, seq, R.event_payload(st.now, d))
            st._write(fr, seq, seq)
            if not st.buf:
                st.buf_seq = st.next_seq
    finally:
        st.logging_thin = False


def note_frame(st, data, i, ln, kind):
    # what recovery learns from a frame of the store's own: a merge's mark, an account
    if kind == R.KIND_MARK:
        note_mark(st, data, i, ln)
    elif kind == R.EV_THINNED:
        note_logged(st, varints(data, i, ln, 4)[3])
    else:  # EV_DROPPED: the newest one's data tells recovery whether the intent was logged
        note_logged(st, varints(data, i, ln, 5)[4])
        end = i + ln - 4
        st.drop_last = bytes(data[R.skip_varint(data, i + R.HEADER, end) : end])


def seal_frame(b, i, kind, seq, n):
    """Write the header of a frame at b[i] whose n payload bytes follow it."""
    b[i] = R.MAGIC
    b[i + 1] = kind
    b[i + 2] = n & 0xFF
    b[i + 3] = n >> 8
    b[i + 4] = seq & 0xFF
    b[i + 5] = (seq >> 8) & 0xFF
    b[i + 6] = (seq >> 16) & 0xFF
    b[i + 7] = (seq >> 24) & 0xFF


def frame_crc(b, i, j):
    # the CRC of the frame at b[i] whose payload ends at b[j]
    return binascii.crc32(memoryview(b)[i + 1 : j]) & 0xFFFFFFFF


class _Out:
    """Bytes written into a buffer allocated once (no growing bytearray: its reallocations
    fragment a small heap until a merge cannot find a block)."""

    def __init__(self, buf):
        self.buf = buf
        self.w = 0

    def put(self, b):
        n = len(b)
        if self.w + n > len(self.buf):
            raise MemoryError("merge buffer")
        self.buf[self.w : self.w + n] = b
        self.w += n

    def append(self, v):  # what R.encode_fixes needs: it then encodes straight into the buffer
        if self.w >= len(self.buf):
            raise MemoryError("merge buffer")
        self.buf[self.w] = v
        self.w += 1


def _frame_kept(out, kseq, keep, st):
    # Frame the fixes a thinning pass kept: every other fix of a run with stride st, so the kept
    # ones are st * 2 apart (a run at stride >= 128 is not thinned). True if more than one.
    # Framed in place in the output buffer: nothing frame-sized is allocated.
    w0 = out.w
    for _ in range(R.HEADER):
        out.append(0)
    out.append(len(keep))
    out.append(st * 2 if st < 128 else st)
    R.encode_fixes(keep, out)
    seal_frame(out.buf, w0, R.KIND_FIXES, kseq, out.w - w0 - R.HEADER)
    c = frame_crc(out.buf, w0, out.w)
    for _ in range(4):
        out.append(c & 0xFF)
        c >>= 8
    return len(keep) > 1


def thin_bytes(data, out):
    """(fixes dropped, first, last dropped seq, fixes left) of one thinning pass of `data`
    into `out` (an _Out).

    Fix frames whose sequence numbers continue each other (same stride, no event between)
    form a run: every other fix of the whole run is kept and the kept fixes are framed
    afresh, S.THIN_CHUNK at a time. Small batches (5 fixes per sync at 1 fix/min) then shrink
    as well as large ones: each frame's header and full first fix are paid per chunk,
    not per batch. Events and undecodable frames are copied untouched."""
    gone = 0
    lo = hi = None
    left = False
    keep = []  # type: list  # kept fixes of the run not yet framed; the first has seq kseq
    kseq = 0
    nxt = -1  # the seq the run's next fix would have
    st = 0  # the run's stride as written
    n = 0  # fixes seen in the run
    for i in R.raw_frames(data):  # raw: clean segments' frames (and this pass's own output)
        if data[i + 1] == R.KIND_MARK:  # superseded by the merge's new mark
            continue
        ln = R.frame_len(data, i)
        recs = None
        if data[i + 1] == R.KIND_FIXES:
            try:
                recs = R.frame_records(data, i, ln)
            except ValueError:
                recs = None
        if not recs:
            if keep:
                left = _frame_kept(out, kseq, keep, st) or left
                keep = []
            nxt = -1
            out.put(data[i : i + ln])
            continue
        s = data[i + R.HEADER + 1]
        if recs[0][0] != nxt or s != st:  # a new run
            if keep:
                left = _frame_kept(out, kseq, keep, st) or left
                keep = []
            st = s
            n = 0
        for r in recs:
            if n & 1 and st < 128:
                gone += 1
                if lo is None:
                    lo = r[0]
                hi = r[0]
            else:
                if not keep:
                    kseq = r[0]
                keep.append(r[2])
                if len(keep) >= S.THIN_CHUNK:
                    left = _frame_kept(out, kseq, keep, st) or left
                    keep = []
            n += 1
        nxt = recs[-1][0] + s
    if keep:
        left = _frame_kept(out, kseq, keep, st) or left
    return gone, lo, hi, left


def merge(st, k):
    a = st.segs[k]
    b = st.segs[k + 1]
    st.reserve_merge()
    src = _Out(st.mbufs[0])
    dst = _Out(st.mbufs[1])
    da = st._load(S._segname(a[S.SEG_NO]))
    if da is None:
        return False
    src.put(da)
    db = st._load(S._segname(b[S.SEG_NO]))
    if db is None:
        return False
    src.put(db)
    gone = 0
    lo = hi = None
    room = st.seg_bytes - 32  # the mark: header, three varints and the CRC
    took = 0  # seal entries of thinned fixes taken out (docs/evidence.md)
    while True:
        dst.w = 0
        g, a_lo, a_hi, left = thin_bytes(memoryview(src.buf)[: src.w], dst)
        src, dst = dst, src
        if g and st.sealer is not None:  # take the thinned fixes out of their seals too
            from tagcore.store import seal

            dst.w = 0
            took += seal.compact(memoryview(src.buf)[: src.w], dst, a[1], b[2])
            src, dst = dst, src
        gone += g
        if a_lo is not None:
            lo = a_lo if lo is None or a_lo < lo else lo
            hi = a_hi if hi is None or a_hi > hi else hi
        if src.w <= room or not g:
            break
    if src.w > room:
        a[S.SEG_FIXES] = False
        return False
    # The account goes into the merged file itself, in the same atomic rename: the highest
    # seq a and b covered (thinning may drop that record) and what went, not yet logged.
    p = st.thin_pend
    if gone:
        if p is None:
            p = [gone, lo, hi]
        else:  # several merges before the record is logged: one record covers them all
            p = [p[0] + gone, lo if lo < p[1] else p[1], hi if hi > p[2] else p[2]]
    total = st.thin_total + gone
    m = R.varints((total, p[1] if p else 0, p[2] if p else 0))  # tagcore.events Mark
    src.put(R.frame(R.KIND_MARK, b[S.SEG_LAST], m))
    data = memoryview(src.buf)[: src.w]
    tmp = "t" + S._segname(a[S.SEG_NO])[1:]
    if not put_file(st, tmp, data):  # no room for the copy: the sources are intact
        st._count("merge_failed")
        st._rm(tmp)
        return False
    # Atomic on littlefs. A cut before the remove leaves b's frames at or below the mark's
    # seq: recovery takes them for the stale copy they are and deletes it.
    st.fs.rename(tmp, S._segname(a[S.SEG_NO]))
    st._rm(S._segname(b[S.SEG_NO]))
    a[S.SEG_LAST] = b[S.SEG_LAST]
    a[S.SEG_SIZE] = src.w
    a[S.SEG_FIXES] = left
    st.segs.pop(k + 1)
    if took:
        st._count("seal_entries_thinned", took)
    if gone:
        st.thinned += gone
        st.thin_total = total
        st._count("thinned", gone)
        st.thin_pend = p
    return True
