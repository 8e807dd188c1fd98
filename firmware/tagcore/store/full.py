# The store when the partition is full (tagcore.store.log imports this only then). See
# docs/store.md, "Partition full". On ENOSPC it gives up, in order:
#   1. oldest first, the first segment that can give anything: if it holds no alert, all of
#      it; if it does, it is compacted with the next one when the two then fit one segment:
#      every alert (record.kept_kind), the store's own records (EV_THINNED, EV_DROPPED,
#      EV_SEAL, EV_BOOT) and the fix just before each alert (it places the alert on the
#      track) are kept; the other fixes and events go. Either way one EV_DROPPED says what.
#   2. the reserve file (so that an alert still goes in);
#   3. nothing: the record is not stored (counted nospace), never raised.
# Each account is on flash before what it accounts for goes: the intent file (DROP_INTENT)
# holds the EV_DROPPED to log; recovery finishes or undoes what a cut interrupted.
from tagcore.store import log as S
from tagcore.store import record as R
from tagcore.store import thin as T

DENSE = 2  # SEG_KEPT of a segment compaction found nothing more to drop in (still truthy)


def _account(data, i, ln):
    # an EV_DROPPED frame's data (after its time): what the intent and the log compare
    end = i + ln - 4
    return bytes(data[R.skip_varint(data, i + R.HEADER, end) : end])


def _intent_frame(data, i):
    ln = R.check_frame(data, i, len(data))
    if ln and data[i + 1] == R.EV_DROPPED and R.payload_ok(data, i, ln):
        return ln
    return 0


def read_intent(st):
    # An account in the intent file not yet in the log. Its frame's seq field is 0 for a drop
    # (finished now: roll forward), else the first seq of a compaction's newer segment: the
    # compaction happened iff one segment now spans that seq; if not, the account it made
    # void falls back to the one before it (the file's second frame, if any).
    try:
        data = st._load(S.DROP_INTENT)
    except MemoryError:
        data = None
    if data is None:
        return
    ln = _intent_frame(data, 0)
    if not ln or _account(data, 0, ln) == st.drop_last:  # torn, or logged before the cut
        st._rm(S.DROP_INTENT)
        return
    x = R.frame_seq(data, 0)
    v = T.varints(data, 0, ln, 5)
    if x:
        done = False
        for sg in st.segs:
            if sg[S.SEG_SIZE] >= 0 and sg[S.SEG_FIRST] < x <= sg[S.SEG_LAST]:
                done = True
        if not done:
            ln2 = _intent_frame(data, ln)
            if not ln2 or _account(data, ln, ln2) == st.drop_last:
                st._rm(S.DROP_INTENT)
                return
            v = T.varints(data, ln, ln2, 5)
    else:
        lo = v[1]
        hi = v[2]
        k = 0
        while k < len(st.segs) - 1:
            sg = st.segs[k]
            if (
                sg[S.SEG_SIZE] >= 0
                and sg[S.SEG_FIRST] >= lo
                and sg[S.SEG_LAST] <= hi
                and sg[S.SEG_CLEAN]
                and not sg[S.SEG_KEPT]
            ):
                st._rm(S._segname(sg[S.SEG_NO]))
                st.segs.pop(k)
            else:
                k += 1
    st.drop_pend = v
    if v[4] > st.logged:  # the thinning totals it carries were logged
        st.logged = v[4]


def records_in(st, sg):
    """[caller's records, records carried by the accounts among them, highest EV_THINNED
    total] of segment sg, or None if it cannot be read."""
    data = st._load(S._segname(sg[S.SEG_NO]))
    if data is None:
        return None
    res = [0, 0, 0]
    for i in st.frames(data, sg[S.SEG_FIRST] - 1):
        kind = data[i + 1]
        if kind == R.KIND_FIXES:
            res[0] += data[i + R.HEADER]
        elif kind == R.EV_THINNED:
            v = T.varints(data, i, R.frame_len(data, i), 4)
            res[1] += v[0]
            res[2] = v[3] if v[3] > res[2] else res[2]
        elif kind == R.EV_DROPPED:
            v = T.varints(data, i, R.frame_len(data, i), 5)
            res[1] += v[0] + v[3]
            res[2] = v[4] if v[4] > res[2] else res[2]
        elif kind != R.EV_BOOT and kind != R.KIND_MARK:
            res[0] += 1
    return res


def drop_at(st, k):
    # Give up segment k (clean, no alert, not the newest) whole: its EV_DROPPED goes to a small
    # intent file first, so that a cut after the remove still leaves the drop accounted for
    # (recovery logs it).
    segs = st.segs
    sg = segs[k]
    try:
        n = records_in(st, sg)
    except MemoryError:
        n = None
    if n is None:
        return False
    p = st.drop_pend
    if p is None:
        p = [n[0], sg[S.SEG_FIRST], sg[S.SEG_LAST], n[1], n[2]]
    else:
        p = [
            p[0] + n[0],
            p[1] if p[1] < sg[S.SEG_FIRST] else sg[S.SEG_FIRST],
            p[2] if p[2] > sg[S.SEG_LAST] else sg[S.SEG_LAST],
            p[3] + n[1],
            p[4] if p[4] > n[2] else n[2],
        ]
    d = T.drop_data(p)
    fr = R.frame(R.EV_DROPPED, 0, R.event_payload(st.now, d))
    while not T.put_file(st, S.DROP_INTENT, fr):
        if not (st.has_reserve and st._rm(S.RESERVE)):  # the reserve makes room for it
            st._count("drop_failed")
            st._rm(S.DROP_INTENT)
            return False
        st._count("reserve_used")
        st.has_reserve = False
    if not st._rm(S._segname(sg[S.SEG_NO])):
        return False
    segs.pop(k)
    st.drop_pend = p
    st._count("dropped", n[0])
    return True


def _merged(p, n):
    # the pending drop account p ([count, first, last, carried, total] or None) with n added
    if p is None:
        return n
    return [
        p[0] + n[0],
        p[1] if p[1] < n[1] else n[1],
        p[2] if p[2] > n[2] else n[2],
        p[3] + n[3],
        p[4] if p[4] > n[4] else n[4],
    ]


def _put_room(st, name, b):
    # A whole file; the reserve gives its room if the partition has none. A failed write is
    # not removed here: on littlefs the file keeps what it held before (the intent's account).
    while not T.put_file(st, name, b):
        if not (st.has_reserve and st._rm(S.RESERVE)):
            return False
        st._count("reserve_used")
        st.has_reserve = False
    return True


def _compact_keeps(kind):
    return (
        R.kept_kind(kind)
        or kind == R.EV_THINNED
        or kind == R.EV_DROPPED
        or kind == R.EV_SEAL
        or kind == R.EV_BOOT
    )


def _evidence(data):
    # Seqs (ascending) of the fixes compaction keeps as alerts' evidence: the last fix before
    # each alert (a zone alert's own data holds the fixes it was decided on; this one places
    # any alert on the track), and the pair's last fix, which may precede an alert in the next
    # segment (re-examined when that one is compacted with this). Reads frame headers only.
    ev = []  # type: list
    last_fix = -1
    for i in R.raw_frames(data):  # raw: clean segments' frames, all taken by the scan
        kind = data[i + 1]
        if kind == R.KIND_FIXES:
            if data[i + R.HEADER]:
                last_fix = R.frame_last_seq(data, i)
        elif R.kept_kind(kind) and last_fix >= 0 and (not ev or ev[-1] != last_fix):
            ev.append(last_fix)
    if last_fix >= 0 and (not ev or ev[-1] != last_fix):
        ev.append(last_fix)
    return ev


def _compacted(data, out):
    """(records dropped, fixes kept) of compacting `data` (whole valid frames of clean
    segments, in seq order) into `out` (a tagcore.store.thin _Out). Marks are left out: the
    caller writes the new one."""
    ev = _evidence(data)
    j = 0
    n = 0
    fixes = False
    for i in R.raw_frames(data):  # raw: clean segments' frames, all taken by the scan
        kind = data[i + 1]
        ln = R.frame_len(data, i)
        if kind == R.KIND_FIXES:
            c = data[i + R.HEADER]
            hi = R.frame_last_seq(data, i)
            k0 = j
            while j < len(ev) and ev[j] <= hi:
                j += 1
            n += c - (j - k0)
            if j > k0:
                for r in R.frame_records(data, i, ln):
                    if r[0] in ev[k0:j]:
                        out.put(R.fixes_frame(r[0], [r[2]]))
                        fixes = True
        elif kind != R.KIND_MARK:
            if _compact_keeps(kind):
                out.put(data[i : i + ln])
            else:
                n += 1
    return n, fixes


def compact(st, k):
    """Compact segments k and k+1 (clean, neither the newest) into one file in place of k.
    True if done (one segment file fewer); False if the result does not fit one segment or
    there was no room to write it (nothing changed then but the reserve, which it may use)."""
    a = st.segs[k]
    b = st.segs[k + 1]
    if st.mbufs is None:
        st.mbufs = (bytearray(2 * st.seg_bytes + 64), bytearray(2 * st.seg_bytes + 64))
    src = T._Out(st.mbufs[0])
    out = T._Out(st.mbufs[1])
    da = st._load(S._segname(a[S.SEG_NO]))
    if da is None:
        return False
    src.put(da)
    db = st._load(S._segname(b[S.SEG_NO]))
    if db is None or not len(db):
        return False
    x = R.frame_seq(db, 0)  # b's first frame: after the rename a segment spans it
    src.put(db)
    da = db = None
    n, fixes = _compacted(memoryview(src.buf)[: src.w], out)
    if out.w > st.seg_bytes - 32:  # the mark: header, three varints and the CRC
        if not n:
            a[S.SEG_KEPT] = DENSE
            b[S.SEG_KEPT] = DENSE
        return False
    p = st.thin_pend
    m = R.varints((st.thin_total, p[1] if p else 0, p[2] if p else 0))  # tagcore.events Mark
    out.put(R.frame(R.KIND_MARK, b[S.SEG_LAST], m))
    prev = st.drop_pend
    acc = None
    if n:  # the account first: on flash before anything goes
        acc = _merged(prev, [n, a[S.SEG_FIRST], b[S.SEG_LAST], 0, 0])
        fr = R.frame(R.EV_DROPPED, x, R.event_payload(st.now, T.drop_data(acc)))
        if prev is not None:  # what the intent said before, should the compaction not happen
            fr.extend(R.frame(R.EV_DROPPED, 0, R.event_payload(st.now, T.drop_data(prev))))
        if not _put_room(st, S.DROP_INTENT, fr):
            st._count("compact_failed")
            return False
    tmp = "t" + S._segname(a[S.SEG_NO])[1:]
    if not _put_room(st, tmp, memoryview(out.buf)[: out.w]):
        st._count("compact_failed")
        st._rm(tmp)
        if acc is not None and prev is None:
            st._rm(S.DROP_INTENT)  # else it resolves to prev, the account still pending
        return False
    # Atomic on littlefs. A cut before the remove leaves b's frames at or below the mark's
    # seq: recovery takes them for the stale copy they are and deletes it.
    try:
        st.fs.rename(tmp, S._segname(a[S.SEG_NO]))
    except OSError:  # (littlefs may find no room for the rename's metadata): as if not begun
        st._count("compact_failed")
        st._rm(tmp)
        if acc is not None and prev is None:
            st._rm(S.DROP_INTENT)
        return False
    st._rm(S._segname(b[S.SEG_NO]))
    a[S.SEG_LAST] = b[S.SEG_LAST]
    a[S.SEG_SIZE] = out.w
    a[S.SEG_FIXES] = fixes
    a[S.SEG_KEPT] = DENSE
    st.segs.pop(k + 1)
    st._count("compacted")
    if acc is not None:
        st.drop_pend = acc
        st._count("dropped", n)
    return True


def give_oldest(st):
    # Steps 1 and 2, oldest first: the oldest clean segment that can give anything, whole if
    # it holds no alert, else compacted with the next one. True if room was made.
    segs = st.segs
    room = st.seg_bytes - 32
    k = 0
    while k < len(segs) - 1:
        a = segs[k]
        if a[S.SEG_SIZE] > 0 and a[S.SEG_CLEAN]:
            if not a[S.SEG_KEPT]:
                if drop_at(st, k):
                    return True
            elif k < len(segs) - 2:
                b = segs[k + 1]
                if (
                    b[S.SEG_SIZE] > 0
                    and b[S.SEG_CLEAN]
                    and not (
                        a[S.SEG_KEPT] == DENSE and b[S.SEG_KEPT] == DENSE and a[3] + b[3] > room
                    )
                ):
                    try:
                        if compact(st, k):
                            # The copy's room came from the reserve: the segment it freed makes
                            # the reserve again first, or the next compaction has no room.
                            if st.reserve > 0 and not st.has_reserve:
                                st._make_reserve()
                            return True
                    except MemoryError:  # two segments at once did not fit: the reserve is next
                        st._count("compact_nomem")
                        return False
        k += 1
    return False


def make_space(st):
    """After ENOSPC: the oldest segment that can give anything (whole without an alert, else
    compacted with the next), else the reserve file. True if the write may be tried again; False
    (counted "nospace") if nothing is left to give."""
    st._close()
    if give_oldest(st):
        return True
    if st.has_reserve and st._rm(S.RESERVE):
        st._count("reserve_used")
        st.has_reserve = False
        return True
    st._count("nospace")
    return False


def append_stuck(st, fix):
    # The partition was too full for the last write: hand out a seq only with a synced frame
    # (else recovery could not know it was handed out).
    seq = st._take()
    if not seq:
        st._count("fixes_nospace")
        return 0, False
    if st._write(R.fixes_frame(seq, [fix]), seq, seq):
        st.buf_seq = st.next_seq
        st.stuck = False
        return seq, True
    st.next_seq = seq
    st.buf_seq = seq
    st._count("fixes_nospace")
    return 0, False
