# The uplink client against a test double of the server (both runtimes): exactly once over a
# lossy link, truncation only on a valid acknowledgement, alerts first, downlink versions.
from tagcore.store import record as R
from tagcore.store.log import Store
from tagcore.uplink import ack as A
from tagcore.uplink import cbor, cose
from tagcore.uplink.client import ACKED, UplinkClient, check_locate
from test_store import MemFs, mkfix
from uplinkserver import ServerDouble

# The fixtures hold the whole log twice (tag and server); the RAM bound: test_uplink_backlog.
MPY_HEAP = 1048576
KEY = bytes(range(1, 33))
TID = b"\x01\x02\x03\x04\x05\x06\x07\x08"
T0 = 800000000


class Lcg:  # the same pseudo-random stream on both runtimes
    def __init__(self, seed):
        self.s = seed

    def next(self, n):
        self.s = (self.s * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.s >> 8) % n


def fill(st, n, t0=T0, every=60, ev_each=37, log=None):
    """n fixes at 1/every s, an event after every ev_each-th; log gets seq -> record."""
    t = t0
    for k in range(n):
        f = mkfix(k, t)
        seq, _ = st.append_fix(t, f)
        if log is not None:
            log[seq] = ("fix", f)
        if k % ev_each == ev_each - 1:
            seq, _ = st.append_event(R.EV_STATUS, t, b"s%d" % k)
            if log is not None:
                log[seq] = (R.EV_STATUS, t, b"s%d" % k)
        t += every
    return t


def store(n=0, log=None, seg_bytes=1024):
    st = Store(MemFs(), T0, max_segments=1000, seg_bytes=seg_bytes)
    if log is not None:
        log[st.boot_seq] = (R.EV_BOOT, T0, b"")
    fill(st, n, log=log)
    return st


def drain(c, srv, now, rounds=200):
    for _ in range(rounds):
        body = c.request(now)
        if body is None:
            return
        assert c.on_reply(now, srv.handle(body, now)) == ACKED
        now += 1
    raise AssertionError("did not drain")


def test_everything_arrives_once_and_the_log_is_truncated():
    log = {}
    st = store(300, log)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY, max_bytes=400)
    drain(c, srv, T0 + 40000)
    assert srv.recs == log  # every record, with equal contents, nothing else
    assert srv.duplicates == 0 and srv.batches > 5
    assert srv.acked() == st.next_seq - 1 == c.acked
    assert len(st.segs) == 1  # all but the newest segment deleted
    assert c.request(T0 + 50000) is None  # nothing due


def test_lossy_link_replays_and_reordering_store_once():
    log = {}
    st = store(200, log)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY, max_bytes=400)
    rng = Lcg(7)
    sent = []  # every request that ever left the tag (an attacker or a proxy may replay them)
    now = T0 + 20000
    for step in range(300):
        if step % 9 == 0:
            now = fill(st, 2, t0=now, log=log)
        body = c.request(now)
        if body is None:
            continue
        sent.append(bytes(body))
        r = rng.next(10)
        if r == 0:  # the request is lost
            c.on_failure(now)
            continue
        if r == 1 and len(sent) > 1:  # an old request arrives again first (a replay)
            srv.handle(sent[rng.next(len(sent) - 1)], now)
        reply = srv.handle(body, now)
        if r == 2:  # the reply is lost
            c.on_failure(now)
            continue
        if r == 3:  # the reply comes twice
            assert c.on_reply(now, reply) == ACKED
            assert c.on_reply(now, reply) == A.REPLAYED
            continue
        assert c.on_reply(now, reply) == ACKED
        now += 30
    drain(c, srv, now)
    for b in sent:  # every request ever sent, again: nothing new is stored
        srv.handle(b, now)
    assert srv.recs == log
    assert srv.inserted == len(log)
    assert srv.acked() == st.next_seq - 1
    assert c.counts.get("failed", 0) > 5 and c.counts[A.REPLAYED] > 3  # the faults happened


def snapshot(st, c):
    return (
        [list(s) for s in st.segs],
        sorted(st.fs.files),
        c.acked,
        dict(c.held),
        list(c.pending),
    )


def test_only_a_valid_ack_of_the_outstanding_request_changes_anything():
    st = store(400)
    c = UplinkClient(st, TID, KEY, max_bytes=100000)
    srv = ServerDouble(KEY, TID)
    old = c.request(T0 + 30000)
    old_reply = srv.handle(old, T0 + 30000)
    c.on_failure(T0 + 30000)
    body = c.request(T0 + 30001)
    ctr = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])[2]
    top = st.next_seq - 1
    before = snapshot(st, c)
    assert len(before[0]) > 3
    other = b"\x09" * 8
    cases = [
        (A.encode(bytes(32), TID, ctr, top, 1, []), A.FORGED),  # another key
        (cose.encode(KEY, TID, cose.AAD_UP, A.encode(KEY, TID, ctr, top, 1, [])), A.FORGED),
        (A.encode(KEY, TID, ctr, top, 1, [])[:-1], A.MALFORMED),  # truncated
        (A.encode(KEY, TID, ctr, top, 1, []) + b"\x00", A.MALFORMED),  # trailing
        (A.encode(KEY, other, ctr, top, 1, []), A.MALFORMED),  # another tag's kid
        (old_reply, A.STALE),  # a genuine answer to an earlier request
        (A.encode(KEY, TID, ctr - 1, top, 1, []), A.STALE),
        (A.encode(KEY, TID, ctr + 1, top, 1, []), A.STALE),
        (A.encode(KEY, TID, ctr, top + 1, 1, []), A.AHEAD),  # more than the tag handed out
        (body, A.FORGED),  # its own request reflected (up aad)
        (b"", A.MALFORMED),
        (b'{"error": "x"}', A.MALFORMED),
    ]
    # Payloads that verify but have the wrong shape or types.
    for p in (
        b"\xa0",
        b"\x80",
        b"\xa5\x01\x48" + TID + b"\x02\x01\x03\x01\x04\x01\x05\x80",  # ctr 1 (not ctr)
        b"\xa4\x01\x48" + TID + b"\x02\x00\x03\x01\x04\x01",  # no down
        b"\xa5\x01\x48" + other + b"\x02\x00\x03\x01\x04\x01\x05\x80",  # another tag in it
        b"\xa5\x01\x48" + TID + b"\x02\x00\x03\x20\x04\x01\x05\x80",  # acked -1
        b"\xa5\x01\x48" + TID + b"\x02\x00\x03\x41\x00\x04\x01\x05\x80",  # acked as bstr
        b"\xa5\x01\x48" + TID + b"\x02\x00\x03\x01\x04\x01\x05\x81\x82\x01\x01",  # item of 2
        b"\xa5\x01\x48" + TID + b"\x02\x00\x03\x01\x04\x01\x05\x81\x83\x01\x01\x01",
    ):
        cases.append((cose.encode(KEY, TID, cose.AAD_DOWN, p), None))
    for reply, why in cases:
        got = c.on_reply(T0 + 30002, bytes(reply))
        assert got != ACKED and (why is None or got == why), (got, why)
        assert snapshot(st, c) == before
    assert c.on_reply(T0 + 30003, srv.handle(body, T0 + 30003)) == ACKED
    assert c.acked == top and len(st.segs) == 1
    for k in (A.FORGED, A.MALFORMED, A.STALE, A.AHEAD):
        assert c.counts[k] >= 1


def test_alerts_go_out_first_and_the_backlog_drains_oldest_first():
    log = {}
    st = store(500, log)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY, max_bytes=600)
    now = T0 + 31000
    first = c.request(now)  # the oldest backlog first
    assert c.on_reply(now, srv.handle(first, now)) == ACKED
    assert 0 < c.acked < 400
    seq, _ = st.append_event(R.EV_ZONE, now, b"\x01\x01")
    log[seq] = (R.EV_ZONE, now, b"\x01\x01")
    c.alert(seq)
    body = c.request(now)
    m = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])
    assert m[4] == seq and m[6][0][:2] == [R.EV_ZONE, seq]
    assert len(body) < 100
    assert c.on_reply(now, srv.handle(body, now)) == ACKED
    assert srv.alerts_at[seq] == now  # at the server in one round trip
    assert srv.acked() < seq  # ... while the backlog still has a gap before it
    a0 = c.acked
    lasts = []
    for _ in range(100):
        body = c.request(now)
        if body is None:
            break
        m = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])
        lasts.append((m[4], m[5]))
        assert c.on_reply(now, srv.handle(body, now)) == ACKED
    assert lasts[0][0] == a0 + 1
    for k in range(1, len(lasts)):
        assert lasts[k][0] == lasts[k - 1][1] + 1  # oldest first, contiguous
    assert srv.recs == log and srv.duplicates == 1  # the alert again, with the backlog
    assert c.counts["alert_batches"] == 1


def test_a_new_alert_overtakes_the_backlog_between_batches():
    st = store(800)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY, max_bytes=300)
    now = T0 + 50000
    firsts = []
    for k in range(6):
        if k == 2:
            seq, _ = st.append_event(R.EV_TAMPER, now, b"")
            c.alert(seq)
        body = c.request(now)
        firsts.append(cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])[4])
        assert c.on_reply(now, srv.handle(body, now)) == ACKED
    assert firsts[2] == seq and firsts[3] < seq  # the alert, then the backlog goes on
    assert seq not in firsts[3:]


def test_downlink_items_taken_only_when_newer_and_well_formed():
    st = store(10)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY, held={A.DL_ZONES: 3})
    now = T0 + 2000
    srv.down = [
        [A.DL_LOCATE, 1, b""],
        [A.DL_ZONES, 3, b"same version"],
        [A.DL_ZONES, 2, b"older"],
        [A.DL_ZONES, 4, b"not a zone blob"],
        [A.DL_BEACONS, 9, b"not a window"],
        [A.DL_CONFIG, 1, b"no check given"],
        [77, 1, b"unknown kind"],
    ]
    assert c.on_reply(now, srv.handle(c.request(now), now)) == ACKED
    assert c.take_items() == [(A.DL_LOCATE, 1, b"")]
    assert c.take_items() == []
    assert c.held == {A.DL_ZONES: 3, A.DL_LOCATE: 1}  # the bad zones blob left v3 in force
    assert c.counts["dl_old"] == 2 and c.counts["dl_bad"] == 2 and c.counts["dl_unknown"] == 2
    assert (A.DL_ZONES, 4, "dl_bad") in c.refused
    # The next batch reports what the tag holds; the same items again change nothing.
    assert c.on_reply(now, srv.handle(c.request(now, poll=True), now)) == ACKED
    assert srv.held == {A.DL_ZONES: 3, A.DL_LOCATE: 1}
    assert c.take_items() == []
    # A check the app gives: a config item is taken when it passes.
    c.checks = {A.DL_CONFIG: lambda d: d.startswith(b"cfg")}
    srv.down = [[A.DL_CONFIG, 2, b"cfg victim addr"], [A.DL_CONFIG, 3, b"bad"]]
    assert c.on_reply(now, srv.handle(c.request(now, poll=True), now)) == ACKED
    assert c.take_items() == [(A.DL_CONFIG, 2, b"cfg victim addr")]
    assert c.held[A.DL_CONFIG] == 2


def test_poll_covers_nothing_and_nothing_due_sends_nothing():
    st = store(5)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY)
    now = T0 + 1000
    drain(c, srv, now)
    assert c.request(now) is None
    body = c.request(now, poll=True)
    m = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])
    assert m[6] == [] and m[5] == m[4] - 1 == c.acked
    assert c.on_reply(now, srv.handle(body, now)) == ACKED
    assert srv.acked() == c.acked


def test_counter_grows_across_requests_reboots_and_deep_sleep():
    fs = MemFs()
    st = Store(fs, T0, seg_bytes=1024)
    fill(st, 50)
    c = UplinkClient(st, TID, KEY)
    ctrs = []
    for _ in range(5):
        b = c.request(T0 + 9000)
        ctrs.append(cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, b)[0])[2])
        c.on_failure(T0 + 9000)
    # Power lost: a new store and a client that knows no counter.
    st = Store(fs, T0 + 9100, seg_bytes=1024)
    c = UplinkClient(st, TID, KEY)
    b = c.request(T0 + 9100)
    ctrs.append(cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, b)[0])[2])
    # Deep sleep: the shell kept c.ctr (RTC memory) and passes it back.
    c2 = UplinkClient(st, TID, KEY, ctr=c.ctr)
    b = c2.request(T0 + 9200)
    ctrs.append(cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, b)[0])[2])
    for k in range(1, len(ctrs)):
        assert ctrs[k] > ctrs[k - 1], ctrs


def test_counter_exhaustion_moves_the_sequence_on():
    st = store(3)
    c = UplinkClient(st, TID, KEY)
    c.ctr = ((st.next_seq + 1) << 16) - 2
    seq0 = st.next_seq
    a = c.request(T0 + 500)  # valid until the next request (the client's buffer)
    ca = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, a)[0])[2]
    b = c.request(T0 + 500)
    cb = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, b)[0])[2]
    assert cb > ca and st.next_seq == seq0 + 1 and c.counts["ctr_bump"] == 1


class Flaky:
    """frame_records (or a store's _load) that raises MemoryError at its n-th call (a full
    heap)."""

    def __init__(self, real, n):
        self.real = real
        self.n = n
        self.calls = 0

    def __call__(self, *a):
        self.calls += 1
        if self.calls == self.n:
            raise MemoryError()
        return self.real(*a)


def test_a_read_that_runs_out_of_memory_never_claims_records_absent():
    # On a full ESP32 heap, decoding a frame can raise MemoryError in Store.read. The batch
    # must end before what the store could not give, or the ack deletes records never sent.
    for fail_at in (1, 2, 3, 5, 8, 13):
        log = {}
        st = store(300, log)
        srv = ServerDouble(KEY, TID)
        c = UplinkClient(st, TID, KEY, max_bytes=100000)
        real = R.frame_records
        R.frame_records = Flaky(real, fail_at)
        try:
            body = c.request(T0 + 30000)
        finally:
            R.frame_records = real
        assert c.on_reply(T0 + 30000, srv.handle(body, T0 + 30000)) == ACKED
        held = {r[0] for r in st.read(1, 100000, True)[0]}
        for seq in log:  # every record is at the server or still on the tag
            assert seq in srv.recs or seq in held, (fail_at, seq)
        drain(c, srv, T0 + 30001)
        assert srv.recs == log
    # the batch builder reads the frames itself (tagcore.uplink.batch): its segment load is
    # where a full heap stops it now
    for fail_at in (1, 2, 3, 5, 8, 13):
        log = {}
        st = store(300, log)
        srv = ServerDouble(KEY, TID)
        c = UplinkClient(st, TID, KEY, max_bytes=100000)
        st._load = Flaky(st._load, fail_at)
        body = c.request(T0 + 30000)
        del st._load
        assert c.on_reply(T0 + 30000, srv.handle(body, T0 + 30000)) == ACKED
        held = {r[0] for r in st.read(1, 100000, True)[0]}
        for seq in log:
            assert seq in srv.recs or seq in held, (fail_at, seq)
        drain(c, srv, T0 + 30001)
        assert srv.recs == log


def test_default_checks_take_real_windows_and_zone_blobs():
    from tagkit.beaconwindow import window_blob
    from zonetest import blob, circle

    st = store(3)
    srv = ServerDouble(KEY, TID)
    c = UplinkClient(st, TID, KEY)
    window = window_blob(b"s" * 32, 0, 1000, 192)  # 48 h of 15-minute identifiers
    zones = blob(circle(7, 200))
    srv.down = [[A.DL_BEACONS, 2, window], [A.DL_ZONES, 5, zones]]
    now = T0 + 700
    assert c.on_reply(now, srv.handle(c.request(now), now)) == ACKED
    assert c.take_items() == [(A.DL_BEACONS, 2, window), (A.DL_ZONES, 5, zones)]
    # One byte changed in either: refused, the versions held stay.
    srv.down = [
        [A.DL_BEACONS, 3, window[:-1]],
        [A.DL_ZONES, 6, zones[:-1] + bytes([zones[-1] ^ 1])],
    ]
    assert c.on_reply(now, srv.handle(c.request(now, poll=True), now)) == ACKED
    assert c.take_items() == [] and c.held == {A.DL_BEACONS: 2, A.DL_ZONES: 5}


def test_a_programming_error_in_a_reply_or_a_check_raises_bad_bytes_are_counted():
    from tagcore.uplink import client as C

    # Bad bytes: a refusal, counted.
    assert C.check_zones(b"not a zone blob") is False
    assert C.check_beacons(b"not a window") is False
    st = store(3)
    c = UplinkClient(st, TID, KEY)
    c.request(T0 + 10)
    assert c.on_reply(T0 + 10, b"\x00garbage") == A.MALFORMED and c.counts["malformed"] == 1
    # A caller's mistake (no buffer at all) raises instead of becoming a counter.
    for call in (
        lambda: C.check_zones(None),
        lambda: C.check_beacons(None),
        lambda: A.parse(KEY, TID, None),
        lambda: c.on_reply(T0 + 10, None),
    ):
        try:
            call()
        except TypeError:
            pass
        else:
            raise AssertionError("taken for bad bytes")
    assert c.counts["malformed"] == 1


def test_a_check_that_runs_out_of_memory_refuses_its_item_not_the_acknowledgement():
    # The ack truncated the store before the items are checked: a short heap then refuses
    # that item (counted, resent by the server until `held` shows it), and the reply is still
    # the acknowledgement it was.
    st = store(10)
    srv = ServerDouble(KEY, TID)

    def short_heap(data):
        raise MemoryError

    c = UplinkClient(st, TID, KEY, checks={A.DL_ZONES: short_heap, A.DL_LOCATE: check_locate})
    now = T0 + 2000
    srv.down = [[A.DL_ZONES, 4, b"zones"], [A.DL_LOCATE, 1, b""]]
    assert c.on_reply(now, srv.handle(c.request(now), now)) == ACKED
    assert c.acked == st.next_seq - 1 and c.counts["nomem"] == 0
    assert c.counts["dl_nomem"] == 1 and (A.DL_ZONES, 4, "dl_nomem") in c.refused
    assert c.take_items() == [(A.DL_LOCATE, 1, b"")] and A.DL_ZONES not in c.held


def test_an_alert_the_server_holds_is_not_sent_ahead_again():
    # The device shell arms the newest alert on every pass while it is above the client's
    # acknowledged point (tagdevice.shell: app.alert_seq > c.acked). Once its alert batch is
    # stored the alert must not go ahead again, or every upload is that alert batch and the
    # backlog before it never goes (bench_device_heap: 99 batches, 92 of them [2025, 2032]).
    for backlog in (40, 300):
        log = {}
        st = store(backlog, log)
        srv = ServerDouble(KEY, TID)
        c = UplinkClient(st, TID, KEY, max_bytes=300)
        now = T0 + 90000
        seq, _ = st.append_event(R.EV_ZONE, now, b"\x01\x01")
        log[seq] = (R.EV_ZONE, now, b"\x01\x01")
        fill(st, 20, now + 60, log=log)
        firsts = []
        for _ in range(200):
            c.alert(seq)  # as the shell does, before every request
            body = c.request(now)
            if body is None:
                break
            firsts.append(cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])[4])
            assert c.on_reply(now, srv.handle(body, now)) == ACKED
            now += 1
        assert firsts[0] == seq and seq not in firsts[1:], firsts[:4]
        assert firsts[1] == 1 and c.counts["alert_batches"] == 1
        assert srv.recs == log and not c.due()


def test_a_batch_never_outgrows_the_clients_buffer():
    # The message is built in the buffer the client took at start-up: growing it past that is
    # a reallocation, which a fragmented heap refuses with plenty free (at 416 KB from ROMFS a
    # 4,449 B block was refused with 80 KB free and the backlog stalled for the rest of the
    # day: bench/bench_device_heap.py). Events of every size up to 400 B between fixes.
    from tagcore.uplink import batch

    st = Store(MemFs(), T0, max_segments=1000, seg_bytes=4096)
    rng = Lcg(7)
    t = T0
    for k in range(900):
        st.append_fix(t, mkfix(k, t))
        if rng.next(6) == 0:
            st.append_event(R.EV_STATUS, t, bytes(rng.next(400)))
        t += 60
    c = UplinkClient(st, TID, KEY)
    cap = c.max_bytes + batch.HEAD_ROOM + batch.TAIL_ROOM + 64  # what __init__ allocates
    srv = ServerDouble(KEY, TID)
    now = t
    batches = 0
    while c.due():
        body = c.request(now)
        assert body is not None
        assert len(c.obuf) <= cap, (batches, len(c.obuf), cap)
        assert c.on_reply(now, srv.handle(body, now)) == ACKED
        batches += 1
        now += 1
    assert batches > 5


def test_an_alert_batch_takes_the_record_after_the_alert_if_the_buffer_holds_it():
    # An alert's batch is kept small (ALERT_BYTES: it must get through a weak link) but the
    # record just after the alert still goes with it when the client's buffer holds it: that
    # is the alert's seal, which a sealing tag writes at once and which lists up to SEAL_MAX
    # records (about 650 B at 1 Hz), so the alert reaches the server verified. Only a record
    # past the buffer waits for the next batch.
    from tagcore.uplink import batch
    from tagcore.uplink import client as C

    for room in (600, 1200, 4096):
        for size in (8, 300, C.ALERT_BYTES, 900, 2000, 3900):
            st = store(30, seg_bytes=4096)
            t = T0 + 90000
            seq, _ = st.append_event(R.EV_ZONE, t, b"\x01\x01")
            st.append_event(R.EV_STATUS, t, bytes(size))
            fill(st, 20, t + 60)
            c = UplinkClient(st, TID, KEY, max_bytes=room)
            c.alert(seq)
            body = c.request(t)
            cap = room + batch.HEAD_ROOM + batch.TAIL_ROOM + 64
            assert len(c.obuf) <= cap, (room, size, len(c.obuf))
            m = cbor.decode(cose.decode(KEY, TID, cose.AAD_UP, body)[0])
            kinds = [r[0] for r in m[6]]
            fits = batch.EVENT_HEADS + size + 40 <= room  # beside the alert's 40 B or so
            assert kinds[:1] == [R.EV_ZONE], (room, size, kinds)
            if fits:
                assert kinds[1:2] == [R.EV_STATUS], (room, size, kinds)
            elif size > room:
                assert kinds == [R.EV_ZONE], (room, size, kinds)
