# The store on an in-memory filesystem (both runtimes). MemFs (tagcore.store.osfs) can cut the power
# after a given number of written bytes: the write in progress keeps only its prefix (a torn
# tail), as on a plain file system without littlefs's atomic sync.
import gc

from tagcore.fix import Fix
from tagcore.store import log as S
from tagcore.store import record as R
from tagcore.store.log import Store
from tagkit.memfs import MemFs, PowerCut

# 256 KB: the full-partition tests keep storing now (compaction: two merge buffers of two
# segments) and read back a log held in RAM; they stopped at nospace in 200 KB before.
MPY_HEAP = 262144


def segnames(fs):
    # the segment files, oldest first (the store's other files: the floor, the reserve, ...)
    return sorted(n for n in fs.files if n[0] == "s")


def mkfix(k, t):
    alt = None if k % 5 == 0 else 300 + k % 7
    return Fix(
        t,
        (k * 37) % 1000,
        51500000 + k * 11 - (k % 3) * 40,
        -120000 - k * 9,
        alt,
        k % 300,
        (k * 91) % 36000,
        40 + k % 9,
        90 + k % 30,
        4 + k % 9,
        1 + k % 2,
        3,
        k % 4,
    )


def test_fix_roundtrip_and_size():
    fixes = [mkfix(k, 1000 + k) for k in range(32)]
    odd = Fix(-5, 1500, -90000000, 180000000, -4000, None, None, None, None, 200, 9, 2, 1 << 20)
    fixes.append(odd)
    fr = R.fixes_frame(77, fixes)
    ln = R.check_frame(fr, 0, len(fr))
    assert ln == len(fr)
    recs = R.frame_records(fr, 0, ln)
    assert [r[0] for r in recs] == list(range(77, 77 + 33))
    got = [r[2] for r in recs]
    assert got[:32] == fixes[:32]
    assert got[32][:9] == odd[:9] and got[32][9] == 127  # sats saturate at 127
    per_fix = len(R.fixes_frame(1, fixes[:32])) / 32
    assert per_fix <= 16, per_fix


def test_frame_rejects_damage():
    fr = R.frame(R.EV_TAMPER, 5, R.event_payload(123, b"xy"))
    assert R.frame_records(fr, 0, R.check_frame(fr, 0, len(fr))) == [(5, R.EV_TAMPER, (123, b"xy"))]
    for i in range(len(fr)):
        bad = bytearray(fr)
        bad[i] ^= 0x10
        assert R.check_frame(bad, 0, len(bad)) == 0
    assert R.check_frame(fr, 0, len(fr) - 1) == 0


def test_durability_bounds_and_read():
    fs = MemFs()
    st = Store(fs, 0, max_fixes=4, max_age=30)
    seqs = []
    for k in range(3):
        seq, d = st.append_fix(100 + k, mkfix(k, 100 + k))
        assert not d
        seqs.append(seq)
    seq, d = st.append_fix(103, mkfix(3, 103))  # the count bound
    assert d
    seqs.append(seq)
    seq, d = st.append_fix(104, mkfix(4, 104))
    assert not d
    assert not st.tick(133)
    assert st.tick(134)  # the age bound
    seqs.append(seq)
    eseq, d = st.append_event(R.EV_LOW_BATTERY, 140, b"\x07")
    assert d and eseq > seqs[-1]
    recs = st.read(seqs[0])[0]
    assert [r[0] for r in recs] == seqs + [eseq]  # noqa: RUF005
    assert recs[2][2] == mkfix(2, 102)
    # a reset: recovery finds the same records and carries the sequence on
    st2 = Store(fs, 200, max_fixes=4, max_age=30)
    assert [r[0] for r in st2.read(seqs[0])[0] if r[1] != R.EV_BOOT] == seqs + [eseq]  # noqa: RUF005
    s, _ = st2.append_fix(201, mkfix(9, 201))
    assert s > eseq


def test_ack_truncates_whole_segments():
    fs = MemFs()
    st = Store(fs, 0, seg_bytes=256, max_fixes=8, reserve=0)  # segment files only
    t = 0
    for k in range(200):
        t += 1
        st.append_fix(t, mkfix(k, t))
        if k % 50 == 7:
            st.append_event(R.EV_STATUS, t, b"ok")
    st.flush()
    n = len(segnames(fs))
    assert n > 5
    mid = st.segs[3][S.SEG_LAST]
    assert st.ack(mid) == 4
    assert len(segnames(fs)) == n - 4
    recs = st.read(0, 1000)[0]
    assert recs[0][0] == mid + 1 and recs[-1][0] == st.durable_seq()
    before = len(st.segs)
    assert st.ack(st.next_seq - 1) == before - 1  # everything issued (10**9 was never issued)
    assert len(segnames(fs)) == 1  # the newest segment always stays: it carries the sequence
    st2 = Store(fs, t)
    assert st2.boot_seq > st.durable_seq()


def test_torn_tail_every_byte():
    # cut the power after every possible byte count of a small workload; check the promises
    total = None
    budget = 0
    checked = 0
    while total is None or budget <= total:
        fs = MemFs(budget)
        issued = {}
        durable = []
        pend = []
        infl = None
        try:
            st = Store(fs, 0, seg_bytes=200, max_fixes=3, max_age=100)
            for k in range(20):
                f = mkfix(k, 10 * k)
                infl = (st.next_seq, f)
                seq, d = st.append_fix(10 * k, f)
                issued[seq] = f
                pend.append(seq)
                if d:
                    durable.extend(pend)
                    pend = []
                if k % 6 == 5:
                    infl = (st.next_seq, (10 * k, b"e"))
                    seq, d = st.append_event(R.EV_ZONE, 10 * k, b"e")
                    issued[seq] = (10 * k, b"e")
                    durable.extend(pend + [seq])  # noqa: RUF005
                    pend = []
            st.flush()
            durable.extend(pend)
            if total is None:
                total = fs.writes
                budget = 0
                continue
        except PowerCut:
            pass
        fs.budget = None
        st = Store(fs, 1)
        got = st.read(0, 1000)[0]
        prev = 0
        for seq, kind, val in got:
            assert seq > prev
            prev = seq
            if kind == R.EV_BOOT:
                continue
            want = issued.get(seq)
            if want is None and infl is not None and infl[0] == seq:
                want = infl[1]
            assert want == val, (budget, seq)
        have = [r[0] for r in got]
        for s in durable:
            assert s in have, (budget, s)
        top = max(list(issued) + [infl[0] if infl else 0])  # noqa: RUF005
        assert st.boot_seq > top
        # the store keeps working after recovery
        s, d = st.append_event(R.EV_STATUS, 2, b"")
        assert Store(fs, 3).read(s, 10)[0][0][0] == s
        checked += 1
        budget += 1
    assert checked > 300


def test_recovery_survives_garbage():
    fs = MemFs()
    st = Store(fs, 0, max_fixes=2)
    for k in range(6):
        st.append_fix(k, mkfix(k, k))
    good = [r[0] for r in st.read(0)[0]]
    fs.files["s00000000"].extend(b"\xa7\x01\xff\xff" + bytes(range(256)))
    fs.files["s00000005"] = bytearray(b"\xa7" * 50)
    fs.files["junk"] = bytearray(b"zz")
    st2 = Store(fs, 9)
    assert [r[0] for r in st2.read(0)[0]][: len(good)] == good
    assert "s00000006" in fs.files  # appends go to a fresh segment, never after damage


def thinned_records(recs):
    """(count, first, last) of every EV_THINNED record in `recs`."""
    out = []
    for r in recs:
        if r[1] == R.EV_THINNED:
            d = r[2][1]
            n, i = R.get_varint(d, 0, len(d))
            lo, i = R.get_varint(d, i, len(d))
            hi, i = R.get_varint(d, i, len(d))
            out.append((n, lo, hi))
    return out


def test_thinning_keeps_events_and_says_what_went():
    fs = MemFs()
    st = Store(fs, 0, max_segments=4, seg_bytes=300, max_fixes=8, reserve=0)
    ev = []
    fixes = []
    t = 0
    for k in range(150):
        t += 60
        fixes.append(st.append_fix(t, mkfix(k, t))[0])
        if k % 40 == 0:
            ev.append(st.append_event(R.EV_TAMPER, t, b"!")[0])
    assert st.thinned > 0
    assert len(segnames(fs)) <= 5  # merged back within the budget (+ the segment being written)
    recs = st.read(0, 10000)[0]
    seqs = [r[0] for r in recs]
    assert seqs == sorted(set(seqs))
    for s in ev:
        assert s in seqs  # events are never thinned
    kept = set(r[0] for r in recs if r[1] == R.KIND_FIXES)
    gone = [s for s in fixes[: len(fixes) - len(st.buf)] if s not in kept]
    assert len(gone) == st.thinned
    # the store logged the thinning itself: counts add up and the ranges cover every lost fix
    th = thinned_records(recs)
    assert th and sum(x[0] for x in th) == st.thinned
    for s in gone:
        assert any(lo <= s <= hi for _, lo, hi in th), s


def test_thinning_holds_the_budget_with_small_batches():
    # At 1 fix/min the age bound syncs ~5 fixes per frame; thinning frame by frame could not
    # shrink two such segments into one and the log outgrew its budget. Runs are re-framed whole.
    fs = MemFs()
    st = Store(fs, 0, max_segments=6, seg_bytes=512, max_fixes=5)
    ev = []
    t = 0
    for k in range(600):  # 600 fixes in 3 KB: per-frame thinning overflowed at the 270th
        t += 60
        st.append_fix(t, mkfix(k, t))
        if k % 97 == 0:
            ev.append(st.append_event(R.EV_TAMPER, t, b"!")[0])
    assert st.thinned > 350
    assert "full" not in st.counts
    assert len(st.segs) <= 6
    recs = st.read(0, 10000)[0]
    seqs = [r[0] for r in recs]
    assert seqs == sorted(set(seqs))
    for s in ev:
        assert s in seqs
    # what is left is still a trail: the newest fixes whole, the oldest evenly thinned
    fx = [r for r in recs if r[1] == R.KIND_FIXES]
    assert len(fx) + st.thinned == 600 - len(st.buf)
    assert fx[-1][2] == mkfix(599 - len(st.buf), 60 * (600 - len(st.buf)))


def test_thinning_record_survives_reboot():
    # the EV_THINNED records are durable: after a reboot they still account for every thinned fix
    fs = MemFs()
    st = Store(fs, 0, max_segments=3, seg_bytes=200, max_fixes=4)
    t = 0
    for k in range(120):
        t += 60
        st.append_fix(t, mkfix(k, t))
    st.flush()
    st2 = Store(fs, t + 1)
    th = thinned_records(st2.read(0, 10000)[0])
    assert sum(x[0] for x in th) == st.thinned > 0


def test_rtc_state_carries_buffer_over_deep_sleep():
    from tagcore.store import rtcstate

    fs = MemFs()
    st = Store(fs, 0, max_fixes=10, max_age=1000)
    st.append_event(R.EV_STATUS, 0, b"")
    seqs = [st.append_fix(k, mkfix(k, k))[0] for k in range(4)]
    b = rtcstate.pack(st)
    assert b is not None and len(b) <= rtcstate.RTC_BYTES
    # deep sleep: RAM gone, RTC memory kept; no boot record, same sequence, buffer back
    st2 = Store(fs, 50, max_fixes=10, max_age=1000, rtc=b)
    assert st2.boot_seq == 0
    recs = st2.read(0, 100, include_buffer=True)[0]
    assert [r[0] for r in recs if r[1] == R.KIND_FIXES] == seqs
    assert recs[-1][2] == mkfix(3, 3)
    s, d = st2.append_event(R.EV_STATUS, 60, b"")
    assert s == seqs[-1] + 1 and d
    # damaged or stale RTC bytes: a normal recovery with a boot record
    bad = bytearray(b)
    bad[-1] ^= 1
    assert rtcstate.unpack(bad) is None
    st3 = Store(fs, 70, rtc=b)  # stale: the log moved past it
    assert st3.boot_seq > s and st3.counts.get("rtc_rejected") == 1
    for junk in (b"", b"RT1", bytes(40), b"RT1" + bytes(30)):
        assert rtcstate.unpack(junk) is None


class FlakyFs(MemFs):
    """A MemFs whose listed segments cannot be opened for reading (an I/O error, or no memory)."""

    def __init__(self, files, bad):
        MemFs.__init__(self)
        self.files = files
        self.bad = bad

    def open(self, name, mode):
        if "r" in mode and name in self.bad:
            raise OSError(5)
        return MemFs.open(self, name, mode)


def test_unreadable_segment_is_kept_and_its_seqs_never_reused():
    fs = MemFs()
    st = Store(fs, 0, seg_bytes=256, max_fixes=4)
    for k in range(60):
        st.append_fix(k, mkfix(k, k))
    st.flush()
    before = [r[0] for r in st.read(0, 1000)[0]]
    names = segnames(fs)
    assert len(names) >= 4
    newest = names[-1]
    # the two newest segments cannot be read at boot: recovery must neither delete them nor
    # hand out a sequence number they might hold
    fl = FlakyFs(fs.files, (names[-2], newest))
    st2 = Store(fl, 100, seg_bytes=256, max_fixes=4)
    assert st2.counts.get("unreadable", 0) >= 2
    assert names[-2] in fs.files and newest in fs.files
    s, _ = st2.append_event(R.EV_STATUS, 101, b"after")
    assert s > before[-1]
    assert st2.read(0, 1000)[0]  # what could be read is still served
    # once readable again, everything is back, in order, once
    st3 = Store(fs, 200, seg_bytes=256, max_fixes=4)
    got = [r[0] for r in st3.read(0, 1000)[0]]
    assert got == sorted(set(got))
    for q in before:
        assert q in got
    assert s in got


# ---- issue 13 findings ----------------------------------------------------------------------


def snapshot(st, fs):
    return (st.next_seq, st.buf_seq, list(st.buf), dict((k, bytes(v)) for k, v in fs.files.items()))


def refused(call, *args):
    try:
        call(*args)
    except ValueError:
        return True
    return False


def test_bad_input_is_refused_before_anything_changes():
    # item 17: every input the log cannot keep as given raises ValueError and changes nothing
    fs = MemFs()
    st = Store(fs, 0, max_fixes=4, max_age=1000)
    st.append_fix(1, mkfix(1, 1))  # a buffered fix that a refused call must not flush
    good = mkfix(2, 2)
    bad_fixes = [None, (), good[:12], good + (0,), "x" * 13]  # noqa: RUF005
    for k, v in (
        (0, None),
        (2, None),
        (9, None),
        (0, 1.5),
        (3, "1"),
        (9, 128),
        (9, 200),
        (9, -1),
        (10, 16),
        (10, -1),
        (11, 4),
        (11, -1),
        (12, 0x10000),
        (12, -1),
    ):
        bad_fixes.append(good[:k] + (v,) + good[k + 1 :])  # noqa: RUF005
    bad_events = []
    for kind in (-1, 0, 1, 2, 15, 256, 1000, None, "x", 16.0):
        bad_events.append((kind, 5, b""))
    for t in (None, 1.5, "5"):
        bad_events.append((R.EV_STATUS, t, b""))
    for data in (None, "text", 5, [1, 2]):
        bad_events.append((R.EV_STATUS, 5, data))
    # the payload is t's varint then the data (one byte for t = 5), and a frame must fit a
    # segment (4096 B: header and CRC take 12): 4083 B of data is the most
    sizes = (4084, 4085, 5000, 65534, 65535, 65536, 70000)
    before = snapshot(st, fs)
    for f in bad_fixes:
        assert refused(st.append_fix, 3, f), f
        assert snapshot(st, fs) == before, f
    assert refused(st.append_fix, None, good)
    for ev in bad_events:
        assert refused(st.append_event, *ev), ev[:2]
        assert snapshot(st, fs) == before, ev[:2]
    for n in sizes:  # made one at a time: the MicroPython heap is small
        gc.collect()
        assert refused(st.append_event, R.EV_STATUS, 5, bytes(n)), n
        assert snapshot(st, fs) == before, n
    for s in (st.next_seq, st.next_seq + 1, 10**9, -1, None, 1.0):
        assert refused(st.ack, s), s
        assert snapshot(st, fs) == before, s
    # the limits themselves are kept unchanged, and the store goes on
    edge = good[:9] + (127, 15, 3, 0xFFFF)  # noqa: RUF005
    s1 = st.append_fix(3, edge)[0]
    s2 = st.append_event(255, 5, bytes(4083))[0]
    s3 = st.append_event(R.EV_FIRST, -(1 << 40), b"x")[0]
    recs = Store(fs, 9).read(0, 100)[0]
    got = dict((r[0], r[2]) for r in recs)
    assert got[s1] == edge
    assert got[s2] == (5, bytes(4083))
    assert got[s3] == (-(1 << 40), b"x")


def test_rtc_state_after_an_empty_wake_is_accepted():
    # item 18: a wake with nothing buffered, saved again at once, resumes at the next wake
    from tagcore.store import rtcstate

    for nbuf in range(4):
        fs = MemFs()
        st = Store(fs, 0, max_fixes=10, max_age=1000)
        st.append_event(R.EV_STATUS, 0, b"")
        for k in range(nbuf):
            st.append_fix(k, mkfix(k, k))
        b = rtcstate.pack(st)
        st2 = Store(fs, 50, max_fixes=10, max_age=1000, rtc=b)
        assert st2.boot_seq == 0
        st2.flush()
        want = st2.next_seq
        b2 = rtcstate.pack(st2)  # right after the wake: nothing buffered
        st3 = Store(fs, 60, max_fixes=10, max_age=1000, rtc=b2)
        assert st3.boot_seq == 0 and "rtc_rejected" not in st3.counts, nbuf
        assert st3.append_fix(61, mkfix(9, 61))[0] == want


def test_rtc_state_is_single_use():
    # item 18: RTC bytes left over across a watchdog reset never bring back a seq handed out
    from tagcore.store import rtcstate

    for nbuf in range(5):
        fs = MemFs()
        st = Store(fs, 0, max_fixes=8, max_age=1000)
        st.append_event(R.EV_STATUS, 0, b"")
        for k in range(nbuf):
            st.append_fix(k, mkfix(k, k))
        b = rtcstate.pack(st)
        st2 = Store(fs, 50, max_fixes=8, max_age=1000, rtc=b)
        handed = [st2.append_fix(50 + k, mkfix(k, 50 + k))[0] for k in range(3)]
        handed += [r[0] for r in st2.read(0, 100, include_buffer=True)[0]]
        # watchdog reset: RAM gone, the same RTC bytes offered again
        st3 = Store(fs, 60, max_fixes=8, max_age=1000, rtc=b)
        s = st3.append_fix(61, mkfix(7, 61))[0]
        assert s > max(handed), (nbuf, s, max(handed))
        assert st3.boot_seq > max(handed)
    # read-only bytes cannot be spoilt, so they are refused
    st4 = Store(MemFs(), 0, rtc=bytes(rtcstate.pack(Store(MemFs(), 0))))
    assert st4.counts.get("rtc_readonly") == 1 and st4.boot_seq > 0


def test_age_bound_holds_when_the_clock_goes_back():
    # item 18: a clock stepped backwards by any amount must not hold fixes past the bound
    for back in (1, 2, 59, 299, 300, 301, 3600, 10**6):
        fs = MemFs()
        st = Store(fs, 0, max_fixes=32, max_age=300)
        st.append_fix(10**7, mkfix(0, 1000))
        assert st.tick(10**7 - back), back
        st.append_fix(10**7, mkfix(1, 1001))
        assert st.append_fix(10**7 - back, mkfix(2, 1002))[1], back


def test_crafted_event_with_a_frame_inside_loses_only_itself():
    # item 19: an event whose data holds a whole frame with a high seq, plus one flipped bit of
    # that event's CRC (or of anything after its length field): only that event may go
    for pos in range(4):
        for bit in range(8):
            fs = MemFs()
            st = Store(fs, 0, seg_bytes=1024, max_fixes=4, reserve=0)
            inner = R.frame(R.EV_TAMPER, 0x7FFFFFF0, R.event_payload(1, b"x"))
            evil = st.append_event(R.EV_STATUS, 5, bytes(inner))[0]
            after = []
            for k in range(60):
                after.append(st.append_fix(10 + k, mkfix(k, 10 + k))[0])
                if k % 9 == 0:
                    after.append(st.append_event(R.EV_ZONE, 10 + k, b"z")[0])
            st.flush()
            seg = fs.files[segnames(fs)[0]]
            i = 0
            while R.frame_seq(seg, i) != evil:
                i += R.check_frame(seg, i, len(seg))
            ln = R.check_frame(seg, i, len(seg))
            seg[i + ln - 4 + pos] ^= 1 << bit
            st2 = Store(fs, 100, seg_bytes=1024, max_fixes=4, reserve=0)
            got = [r[0] for r in st2.read(0, 1000)[0]]
            assert evil not in got and 0x7FFFFFF0 not in got
            for s in after:
                assert s in got, (pos, bit, s)
            assert st2.boot_seq > max(after)


def test_recovery_keeps_what_it_cannot_index():
    # item 19: a segment with no valid frame is evidence: kept on flash, never deleted
    blobs = [b"\xa7" * 50, bytes(range(256)), b"\x00", b"\xa7\x01\xff\xff" + bytes(40)]
    for blob in blobs:
        fs = MemFs()
        st = Store(fs, 0, seg_bytes=128, max_fixes=2, reserve=0)
        for k in range(20):
            st.append_fix(k, mkfix(k, k))
        good = [r[0] for r in st.read(0, 100)[0]]
        names = segnames(fs)
        assert len(names) > 3
        fs.files[names[1]] = bytearray(blob)  # an old segment, not the newest
        st2 = Store(fs, 9, seg_bytes=128, max_fixes=2, reserve=0)
        assert bytes(fs.files[names[1]]) == blob
        got = [r[0] for r in st2.read(0, 100)[0]]
        assert got == sorted(set(got))
        assert st2.boot_seq > max(good)
        assert names[-1] in fs.files


def test_merge_never_drops_damaged_bytes():
    # item 19: damage in a segment that thinning would merge stays on flash as it was
    for off in (0, 5, 20, 47, 100):
        fs = MemFs()
        st = Store(fs, 0, max_segments=4, seg_bytes=300, max_fixes=8, reserve=0)
        t = 0
        for k in range(30):
            t += 60
            st.append_fix(t, mkfix(k, t))
        st.flush()
        first = segnames(fs)[0]
        seg = fs.files[first]
        seg[off % len(seg)] ^= 0x5A
        damaged = bytes(seg)
        st = Store(fs, t + 1, max_segments=4, seg_bytes=300, max_fixes=8, reserve=0)
        for k in range(30, 200):
            t += 60
            st.append_fix(t, mkfix(k, t))
        assert st.thinned > 0
        assert first in fs.files and bytes(fs.files[first]) == damaged, off


def test_damaged_newest_tail_never_brings_back_a_seq():
    # item 13: damage to any suffix of the newest segment (bytes kept, contents spoilt) must not
    # let recovery hand out a seq that was already returned or served
    fs0 = MemFs()
    st = Store(fs0, 0, seg_bytes=4096, max_fixes=4)
    issued = []
    for k in range(40):
        issued.append(st.append_fix(k, mkfix(k, k))[0])
        if k % 10 == 3:
            issued.append(st.append_event(R.EV_ZONE, k, b"z")[0])
    issued += [r[0] for r in st.read(0, 1000, include_buffer=True)[0]]
    newest = sorted(fs0.files)[-1]
    size = len(fs0.files[newest])
    for p in range(0, size, 7):
        for how in (0, 1):
            fs = MemFs()
            fs.files = dict((k, bytearray(v)) for k, v in fs0.files.items())
            seg = fs.files[newest]
            for q in range(p, size):
                seg[q] = (seg[q] ^ 0xFF) if how else 0xFF
            st2 = Store(fs, 100, seg_bytes=4096, max_fixes=4)
            assert st2.boot_seq > max(issued), (p, how)


def read_all(st):
    # page through the log as an uploader does (one big list fragments a small heap)
    out = []
    nxt = 0
    while True:
        recs, failed = st.read(nxt, 50)
        assert failed is None
        if not recs:
            return out
        out.extend(recs)
        nxt = recs[-1][0] + 1


def accounted(recs, kind):
    # records an EV_THINNED / EV_DROPPED says went (an EV_DROPPED also carries what the
    # accounts it gave up had said)
    n = 0
    for r in recs:
        if r[1] == kind:
            d = r[2][1]
            v, i = R.get_varint(d, 0, len(d))
            n += v
            if kind == R.EV_DROPPED:
                for _ in range(3):
                    v, i = R.get_varint(d, i, len(d))
                n += v
    return n


def test_full_partition_keeps_working_and_keeps_alerts():
    # item 15: a partition that fills up (events are never thinned; a budget larger than the
    # partition) never makes append_event or Store() raise, keeps every alert, and accounts for
    # every record it gave up
    cfg = {"seg_bytes": 256, "max_fixes": 4, "reserve": 256}
    for budget, every in ((12, 1), (12, 3), (60, 1), (60, 5)):
        fs = MemFs(cap=16 * 256)  # room for the 10 alerts' segments and a few more
        st = Store(fs, 0, max_segments=budget, **cfg)
        alerts = []
        durable = 0  # records promised durable
        pend = 0
        t = 0
        for k in range(600):
            t += 60
            if k % every == 0:
                pend += 1
                if st.append_fix(t, mkfix(k, t))[1]:
                    durable += pend
                    pend = 0
            if st.append_event(R.EV_STATUS, t, b"status ok")[1]:
                durable += pend + 1
            pend = 0  # flushed with the event, or gone with it (never promised)
            if k % 61 == 0:  # alerts are rare: segments without one are what can be given up
                s, d = st.append_event(R.EV_TAMPER, t, b"!")
                assert d, (budget, every, k)
                alerts.append(s)
                durable += 1
        assert "dropped" in st.counts
        st = None
        gc.collect()
        st2 = Store(fs, t + 1, max_segments=budget, **cfg)
        recs = read_all(st2)
        seqs = [r[0] for r in recs]
        for s in alerts:
            assert s in seqs, (budget, every, s)
        own = (R.EV_BOOT, R.EV_THINNED, R.EV_DROPPED)
        kept = len([r for r in recs if r[1] not in own])
        gone = accounted(recs, R.EV_THINNED) + accounted(recs, R.EV_DROPPED)
        assert kept + gone >= durable, (budget, every, kept, gone, durable)
        # this test's whole-log lists (a device pages through the log) would stay live,
        # scattered over the heap, through the next partition's appends
        recs = seqs = st2 = None
        gc.collect()


def test_partition_full_of_alerts_never_raises():
    # item 15: when nothing is left to give up the reserve still takes an alert, and past it an
    # alert that cannot be stored is reported (durable False), never raised; Store() boots
    cfg = {"max_segments": 100, "seg_bytes": 256, "max_fixes": 4, "reserve": 512}
    fs = MemFs(cap=6 * 256)
    st = Store(fs, 0, **cfg)
    stored = []
    for k in range(400):
        s, d = st.append_event(R.EV_TAMPER, k, b"!" * 20)
        if d:
            stored.append(s)
    assert "reserve_used" in st.counts and st.counts.get("nospace", 0) > 0
    st2 = Store(fs, 500, **cfg)
    seqs = [r[0] for r in st2.read(0, 10**6)[0]]
    for s in stored:
        assert s in seqs
    s, d = st2.append_event(R.EV_TAMPER, 501, b"!")
    assert (s, d) == (0, False) or s > max(stored)  # 0: not stored, and no seq handed out
    s, d = st2.append_fix(502, mkfix(1, 502))
    assert (s == 0 and not d) or s > max(stored)


def alert_workload(st, steps, every, status=b"status ok"):
    """A fix and a status event each step, an alert every `every` steps (so every segment
    holds one); returns (alert seqs, {alert seq: seq of the durable fix just before it},
    records promised durable, seqs of the last 8 steps' records)."""
    alerts = []
    before = {}
    durable = 0
    recent = []
    t = 0
    for k in range(steps):
        t += 60
        fs_ = st.append_fix(t, mkfix(k, t))[0]
        s, d = st.append_event(R.EV_STATUS, t, status)
        if d:
            durable += 2  # the fix went with it
        if k >= steps - 8:
            recent += [fs_, s]
        if k % every == 0:
            s, d = st.append_event(R.EV_TAMPER, t, b"!")
            assert d, (k, st.counts)
            alerts.append(s)
            before[s] = fs_
            durable += 1
    return alerts, before, durable, recent


def test_partition_of_alert_segments_keeps_storing():
    # issue 13 item 15, open part: when every segment holds an alert nothing could be given
    # up whole, and the store stopped storing (nospace). Compaction keeps it going: every
    # alert, its evidence fixes and the newest records stay; what went is accounted.
    for seg, every in ((256, 2), (256, 3), (256, 5), (512, 4), (512, 9)):
        cfg = {"seg_bytes": seg, "max_fixes": 4, "reserve": seg, "max_segments": 1000}
        fs = MemFs(cap=32 * 256)
        st = Store(fs, 0, **cfg)
        # 200 steps are about 10 KB of records: without compaction the store stopped at ~150
        alerts, before, durable, recent = alert_workload(st, 200, every)
        assert st.counts.get("compacted", 0) > 0, (seg, every)
        assert "nospace" not in st.counts, (seg, every, st.counts)
        st = None
        gc.collect()
        st2 = Store(fs, 10**6, **cfg)
        assert "nospace" not in st2.counts
        seqs = []  # paged through, records not kept: the MicroPython heap is small
        kept = 0
        gone = 0
        nxt = 0
        while True:
            recs, failed = st2.read(nxt, 20)
            assert failed is None
            if not recs:
                break
            seqs.extend(r[0] for r in recs)
            kept += len([r for r in recs if r[1] not in (R.EV_BOOT, R.EV_DROPPED)])
            gone += accounted(recs, R.EV_DROPPED)
            nxt = recs[-1][0] + 1
            recs = None
        assert seqs == sorted(set(seqs))
        for s in alerts:
            assert s in seqs, (seg, every, s)
            if every * 64 <= seg:  # 51-60 B a step: an alert in every segment, none goes whole
                assert before[s] in seqs, (seg, every, s)  # the fix that places it
        for s in recent:
            assert s in seqs, (seg, every, s)
        assert kept + gone >= durable, (seg, every, kept, gone, durable)


def test_truncated_newest_tail_never_brings_back_a_seq():
    # item 3 of the store's brief (issue 13 item 13's last hole): bytes gone from the end of
    # the newest segment (a file cut short at any byte, at a frame boundary or inside a
    # frame) left nothing to see, and recovery handed out again the seqs the lost frames held.
    # Recovery now skips what the segment's missing room could have held, and counts a torn
    # frame it can see.
    for every in (1, 3, 50):
        fs0 = MemFs()
        st = Store(fs0, 0, seg_bytes=1024, max_fixes=4, reserve=0)
        issued = []
        for k in range(60):
            issued.append(st.append_fix(k, mkfix(k, k))[0])
            if k % every == 0:
                issued.append(st.append_event(R.EV_ZONE, k, b"z")[0])
        st.flush()
        newest = sorted(fs0.files)[-1]
        size = len(fs0.files[newest])
        starts = []
        i = 0
        while i < size:
            starts.append(i)
            i += R.check_frame(fs0.files[newest], i, size)
        for p in range(0, size, 3 if every == 1 else 1):
            fs = MemFs()
            fs.files = dict((k, bytearray(v)) for k, v in fs0.files.items())
            fs.files[newest] = fs.files[newest][:p]
            st2 = Store(fs, 100, seg_bytes=1024, max_fixes=4, reserve=0)
            assert st2.boot_seq > max(issued), (every, p)
            if p not in starts:  # a frame cut short: seen, and counted
                assert st2.counts.get("tail_torn", 0) > 0, (every, p)
            got = [r[0] for r in st2.read(0, 1000)[0]]
            assert got == sorted(set(got)) and got[-1] == st2.boot_seq
