# The batch builder takes records straight from the store's frames (no record object per
# record): the same batches, byte for byte, as reading CHUNK records at a time with
# Store.read, the way it was built before (ref_build below, kept verbatim), over logs with
# events, thinned runs, a RAM buffer and a hole, at every bound a client uses (both runtimes).
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.uplink import batch, cbor, cose, fixcodec
from test_store import MemFs, mkfix

MPY_HEAP = 1048576
KEY = bytes(range(1, 33))
TID = b"\x01\x02\x03\x04\x05\x06\x07\x08"
T0 = 800000000


def most(rec):
    if rec[1] == R.KIND_FIXES:
        return batch.FIX_MOST
    return batch.EVENT_HEADS + len(rec[2][1])


def ref_build(
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
    max_bytes=batch.MAX_BYTES,
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
    for _ in range(batch.HEAD_ROOM):
        out.append(0)
    r = batch._Recs(out, run, packer)
    if max_recs <= 0:
        max_recs = 0x7FFFFFFF
    last = first - 1
    nxt = first
    taken = 0
    while taken < max_recs and (taken == 0 or r.size() - batch.HEAD_ROOM < max_bytes):
        want = batch.CHUNK if max_recs - taken > batch.CHUNK else max_recs - taken
        got, failed = store.read(nxt, want, True)
        if failed is not None:  # what came before the failure may go; nothing after it
            store.counts["uplink_stalled"] = store.counts.get("uplink_stalled", 0) + 1
        if not got:
            break
        short = failed is not None or len(got) < want  # the store had no more (or could not)
        for rec in got:
            # the record must fit as well as what is there: past `room` the caller's buffer
            # (sized for it, from start-up) would be reallocated, which a fragmented heap refuses
            if taken > 0 and r.size() - batch.HEAD_ROOM + most(rec) > room:
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
    out.append(batch.K_HELD)
    kinds = sorted(held)
    cbor.put_head(out, cbor.MAP, len(kinds))
    for k in kinds:
        cbor.put_head(out, cbor.UINT, k)
        cbor.put_head(out, cbor.UINT, held[k])
    # The head goes into the room reserved before the records, ending where they start.
    h = bytearray(b"\xa7")  # map(7)
    h.append(batch.K_TAG)
    cbor.put_bytes(h, tag_id)
    h.append(batch.K_CTR)
    cbor.put_head(h, cbor.UINT, ctr)
    h.append(batch.K_SENT)
    cbor.put_head(h, cbor.UINT, now if now > 0 else 0)
    h.append(batch.K_FIRST)
    cbor.put_head(h, cbor.UINT, first)
    h.append(batch.K_LAST)
    cbor.put_head(h, cbor.UINT, last)
    h.append(batch.K_RECS)
    cbor.put_head(h, cbor.ARRAY, r.n)
    pstart = batch.HEAD_ROOM - len(h)
    plen = len(out) - pstart
    pre = cose.prefix(tag_id)
    cbor.put_head(pre, cbor.BSTR, plen)
    start = pstart - len(pre)
    if start < 0:
        raise ValueError("head room")
    out[start:pstart] = pre
    out[pstart : batch.HEAD_ROOM] = h
    out.append(0x48)  # bstr(8): the MAC
    out.extend(cose.mac_tag(key, cose.AAD_UP, out, pstart, pstart + plen))
    return memoryview(out)[start:], last, taken, r.fixes


def log(n, seg_bytes=1024, max_segments=1000, every=60, ev_each=23, unflushed=5):
    st = Store(MemFs(), T0, max_segments=max_segments, seg_bytes=seg_bytes)
    t = T0
    for k in range(n):
        st.append_fix(t, mkfix(k, t))
        if k % ev_each == ev_each - 1:
            st.append_event(R.EV_STATUS, t, b"s%d" % k * (1 + k % 4))
        t += every
    st.flush()
    for k in range(unflushed):  # fixes still in the RAM buffer (include_buffer)
        st.append_fix(t, mkfix(n + k, t))
        t += 1
    return st


def both(st, first, mb, mr, room, held):
    out = []
    for fn in (ref_build, batch.build):
        n0 = st.counts.get("uplink_stalled", 0)
        ob = batch.scratch(batch.MAX_BYTES + batch.HEAD_ROOM + batch.TAIL_ROOM + 64)
        rb = batch.scratch(batch.RUN_BYTES)
        body, last, n, nfix = fn(st, KEY, TID, 77, T0 + 5, first, held, ob, rb,
                                 fixcodec.Packer(batch.RUN_MAX), mb, mr, room)  # fmt: skip
        out.append((bytes(body), last, n, nfix, st.counts.get("uplink_stalled", 0) - n0))
    return out


BOUNDS = ((batch.MAX_BYTES, 0, batch.MAX_BYTES), (512, 8, batch.MAX_BYTES), (300, 0, 300),
          (100000, 0, 0), (batch.MAX_BYTES, 20, 0), (64, 1, 0))  # fmt: skip


def check(st):
    top = st.next_seq
    firsts = (1, 2, 17, top // 3, top // 2 + 1, top - 6, top - 1, top, top + 3)
    for first in firsts:
        for mb, mr, room in BOUNDS:
            for held in ({}, {2: 5, 1: 300}):
                a, b = both(st, first, mb, mr, room, held)
                assert a == b, (first, mb, mr, room, a[1:], b[1:])
                if mb == batch.MAX_BYTES and not mr and not held:
                    p = cose.decode(KEY, TID, cose.AAD_UP, b[0])[0]
                    assert cbor.decode(p)[4] == first


def test_the_same_batches_as_chunked_store_reads():
    check(log(400))
    check(log(300, seg_bytes=4096, unflushed=0))


def test_the_same_over_thinned_runs_and_merge_marks():
    st = log(900, max_segments=6, every=1, ev_each=97)
    assert st.thinned > 0
    check(st)


def test_the_same_where_a_segment_cannot_be_read():
    st = log(400)
    st.segs[3][3] = -1  # SEG_SIZE: a hole (recovery's unreadable segment)
    check(st)
