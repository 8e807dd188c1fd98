# The store when the partition is full (tagcore.store.log imports this only then, or when a
# reserve is asked for): giving up the oldest segment without an alert, and the reserve file.
# See docs/store.md, "Partition full".
from tagcore.store import log as S
from tagcore.store import record as R
from tagcore.store import thin as T


def make_reserve(st):
    if st.reserve <= 0 or st.has_reserve:
        return
    if T.put_file(st, S.RESERVE, bytes(256), (st.reserve + 255) // 256):
        st.has_reserve = True
    else:  # no room for it now: the next boot tries again
        st._count("reserve_failed")
        st._rm(S.RESERVE)


def read_intent(st):
    # A drop whose EV_DROPPED was not logged yet: finish it (roll forward).
    try:
        data = st._load(S.DROP_INTENT)
    except MemoryError:
        data = None
    if data is None:
        return
    ln = R.check_frame(data, 0, len(data))
    if ln and data[1] == R.EV_DROPPED and R.payload_ok(data, 0, ln):
        v = T.varints(data, 0, ln, 5)
        lo = v[1]
        hi = v[2]
        if hi > st.dropped_hi:
            k = 0
            while k < len(st.segs) - 1:
                sg = st.segs[k]
                if (
                    sg[S.SEG_SIZE] >= 0
                    and sg[S.SEG_FIRST] >= lo
                    and sg[S.SEG_LAST] <= hi
                    and not sg[S.SEG_KEPT]
                ):
                    st._rm(S._segname(sg[S.SEG_NO]))
                    st.segs.pop(k)
                else:
                    k += 1
            st.drop_pend = v
            if v[4] > st.logged:  # the thinning totals it carries were logged
                st.logged = v[4]
            return
    st._rm(S.DROP_INTENT)


def records_in(st, sg):
    """[caller's records, records carried by the accounts among them, highest EV_THINNED
    total] of segment sg, or None if it cannot be read."""
    data = st._load(S._segname(sg[S.SEG_NO]))
    if data is None:
        return None
    res = [0, 0, 0]
    i = 0
    end = len(data)
    last = sg[S.SEG_FIRST] - 1
    while i < end:
        ln = st._step(data, i, end, last)
        if ln < 0:
            i -= ln
            continue
        kind = data[i + 1]
        if kind == R.KIND_MARK:
            last = R.frame_seq(data, i)
        else:
            last = R.frame_last_seq(data, i)
            if kind == R.KIND_FIXES:
                res[0] += data[i + R.HEADER]
            elif kind == R.EV_THINNED:
                v = T.varints(data, i, ln, 4)
                res[1] += v[0]
                res[2] = v[3] if v[3] > res[2] else res[2]
            elif kind == R.EV_DROPPED:
                v = T.varints(data, i, ln, 5)
                res[1] += v[0] + v[3]
                res[2] = v[4] if v[4] > res[2] else res[2]
            elif kind != R.EV_BOOT:
                res[0] += 1
        i += ln
    return res


def drop_oldest(st):
    # Give up the oldest segment that holds no alert and no account (EV_THINNED,
    # EV_DROPPED): its EV_DROPPED goes to a small intent file first, so that a cut after
    # the remove still leaves the drop accounted for (recovery logs it).
    segs = st.segs
    k = 0
    while k < len(segs) - 1 and not (
        segs[k][S.SEG_SIZE] > 0 and segs[k][S.SEG_CLEAN] and not segs[k][S.SEG_KEPT]
    ):
        k += 1
    if k >= len(segs) - 1:
        return False
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


def make_space(st):
    """After ENOSPC: give up the oldest segment without an alert, else the reserve file. True
    if the write may be tried again; False (counted "nospace") if nothing is left to give."""
    st._close()
    if drop_oldest(st):
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
