# The uplink client: a sans-I/O state machine between the store and a transport.
#
#   c = UplinkClient(store, tag_id, key)      # held={kind: version}, ctr from RTC memory
#   body = c.request(now)                     # bytes to POST to /v1/up, or None: nothing due
#   res = c.on_reply(now, reply_body)         # ACKED, or why the reply was refused
#   c.on_failure(now)                         # timeout, no link, HTTP error: retry later
#   c.alert(seq)                              # an alert event was stored: it goes out first
#   c.take_items()                            # downlink items accepted since the last call
#   c.send_on()                               # after on_reply: send the next batch now?
#
# Only a verified acknowledgement of the outstanding request calls store.ack(); anything else
# changes nothing and is counted by reason. docs/uplink.md is the contract.
from tagcore.compat import IS_MICROPYTHON, const
from tagcore.store import record as R
from tagcore.uplink import ack as A
from tagcore.uplink import batch, fixcodec

ACKED = "acked"
NOMEM = "nomem"
ALERT_RECS = const(8)  # records an alert batch carries from the alert on
ALERT_BYTES = const(512)
MAX_PENDING_ALERTS = const(16)
DRAIN_MIN = const(64)  # records behind the ack worth sending on for at once (one fix run)
CTR_SHIFT = const(16)  # ctr = (next seq << CTR_SHIFT) + batches since: monotonic across boots


# A downlink check: True to take the item. Bad bytes are False; a short heap raises
# MemoryError (the client refuses that item as "dl_nomem"); a `data` that is not bytes raises.
def check_zones(data):
    from tagcore.zones import blob as zoneblob

    try:
        zoneblob.parse(data)
        return True
    except (ValueError, IndexError):  # the decoder's reason; a field past the end
        return False


def check_beacons(data):
    from tagcore.proximity.idtable import IdTable

    t = IdTable()
    return t.load(data) > 0 and not t.counts  # refusals are counted, never raised


def check_locate(data):
    return len(data) == 0


DEFAULT_CHECKS = {A.DL_BEACONS: check_beacons, A.DL_ZONES: check_zones, A.DL_LOCATE: check_locate}


class UplinkClient:
    def __init__(
        self,
        store,
        tag_id,
        key,
        held=None,
        ctr=0,
        acked=None,
        checks=None,
        max_bytes=batch.MAX_BYTES,
    ):
        self.store = store
        self.tag_id = bytes(tag_id)
        self.key = bytes(key)
        self.held = dict(held) if held else {}
        self.checks = checks if checks is not None else DEFAULT_CHECKS
        self.max_bytes = max_bytes
        # The message and one fix run are built in buffers allocated here, once, while the
        # heap is whole: growing a 4 KB bytearray per batch fragments an ESP32's heap.
        self.obuf = batch.scratch(max_bytes + batch.HEAD_ROOM + batch.TAIL_ROOM + 64)
        self.rbuf = batch.scratch(batch.RUN_BYTES)
        self.packer = fixcodec.Packer(batch.RUN_MAX)
        # The counter must exceed every one this tag ever sent. Persist `ctr` across deep
        # sleep (RTC memory, beside tagcore.store.rtcstate); after power loss the store's recovery
        # moves its sequence past everything handed out, and with it this floor.
        self.ctr = ctr
        # Every seq up to here is at the server. Unknown after a power-on: 0, so the first
        # batch covers [1, ...] (what the store no longer holds was acknowledged before).
        self.acked = acked if acked is not None else 0
        self.pending = []  # alert seqs not yet delivered, ascending
        # The newest alert an acknowledged batch carried. Alerts go oldest first, so every
        # alert at or below it is at the server: arming one again (the shell does, while it
        # is above `acked`) must not send it ahead again, or the backlog behind it starves.
        self.delivered = 0
        self.out = None  # (ctr, first, last) of the outstanding request
        self.items = []
        self.refused = []  # (kind, version, reason) of refused downlink items
        self.failures = 0  # consecutive
        self.verdict = None  # the last on_reply's result: ACKED or why the reply was refused
        self.acked_before = 0  # acked and delivered when the last reply came (send_on)
        self.delivered_before = 0
        self.counts = {"nomem": 0}  # present from the start: counting it must not allocate

    def _count(self, k):
        self.counts[k] = self.counts.get(k, 0) + 1

    def alert(self, seq):
        """The app stored an alert event as `seq`: the next request carries it first."""
        if seq <= self.acked or seq <= self.delivered or seq in self.pending:
            return
        if len(self.pending) >= MAX_PENDING_ALERTS:
            self._count("alert_overflow")  # still in the store: it goes with the backlog
            return
        self.pending.append(seq)
        self.pending.sort()

    def due(self):
        """True if something is not yet at the server."""
        return bool(self.pending) or self.store.next_seq - 1 > self.acked

    def _next_ctr(self, now):
        floor = self.store.next_seq << CTR_SHIFT
        c = self.ctr + 1 if self.ctr >= floor else floor
        if c >= (self.store.next_seq + 1) << CTR_SHIFT:
            # 65536 batches without a new record: a status event moves the sequence (and with
            # it the floor a reboot starts from) on, so a counter is never reused.
            self.store.append_event(R.EV_STATUS, now, b"ctr")
            self._count("ctr_bump")
            c = self.store.next_seq << CTR_SHIFT
        self.ctr = c
        return c

    def request(self, now, poll=False):
        """The body of the next request (a COSE_Mac0 batch, a memoryview into the client's own
        buffer: valid until the next call), or None if nothing is due and no poll was asked
        for, or the heap is short (counted `nomem`: nothing changed, try later). A request
        still outstanding is abandoned (its reply is then stale)."""
        try:
            return self._request(now, poll)
        except MemoryError:
            self.out = None
            self.counts["nomem"] += 1
            return None

    def _request(self, now, poll):
        if self.out is not None:
            self._count("abandoned")
            self.out = None
        self.pending = [s for s in self.pending if s > self.acked]
        if not (poll or self.due()):
            return None
        first = self.acked + 1
        if self.pending and self.pending[0] > first:
            first = self.pending[0]  # alerts first: a small batch from the oldest alert on
            mb, mr = ALERT_BYTES, ALERT_RECS
            self._count("alert_batches")
        else:
            mb, mr = self.max_bytes, 0
        st = self.store
        if st.sealer is not None and st.buf:
            # a sealing tag sends only what is on flash: a fix sent from RAM and lost in a reset
            # would be a record the server holds inside a sealed stretch that no seal lists
            st.flush()
        ctr = self._next_ctr(now)
        if not IS_MICROPYTHON:  # CPython cannot resize a buffer a live memoryview exports
            self.obuf = bytearray()
        body, last, n, nfix = batch.build(
            st,
            self.key,
            self.tag_id,
            ctr,
            now,
            first,
            self.held,
            self.obuf,
            self.rbuf,
            self.packer,
            mb,
            mr,
            self.max_bytes,  # what obuf holds: an alert's seal goes with it if it fits
        )
        self.out = (ctr, first, last)
        self.last_recs = n
        self.last_fixes = nfix
        self.last_bytes = len(body)
        return body

    def on_failure(self, now):
        """The request got no valid reply (timeout, link down, HTTP error): nothing changes on
        the store; the next request() rebuilds it. Returns the suggested back-off, seconds."""
        self._count("failed")
        self.out = None
        self.failures += 1
        return min(3600, 15 << min(self.failures, 8))

    def on_reply(self, now, body):
        """Verify a reply: ACKED (the store truncated, downlink items checked) or the refusal
        reason (FORGED, MALFORMED, STALE, REPLAYED, AHEAD, or NOMEM when the heap was too short
        to check it), counted, with nothing changed."""
        self.acked_before = self.acked
        self.delivered_before = self.delivered
        try:
            why = self._on_reply(now, body)
        except MemoryError:
            self.counts["nomem"] += 1
            why = NOMEM
        self.verdict = why
        return why

    def send_on(self):
        """After on_reply: True to send the next batch now rather than at the next upload.
        Only after an ack that made progress (it moved the acknowledged point, or took an
        alert: an alert's own batch leaves the ack where it was and the backlog behind it
        must follow), while an alert or more than DRAIN_MIN records are left (not the few
        fixes of the last seconds). Never after a reply that changed nothing, so a server
        that stops acknowledging, or a tag logging at 1 Hz near a zone, cannot keep the
        radio on. The one rule for every shell (TagApp's seam, the device's send loop)."""
        if self.verdict != ACKED:
            return False
        if self.acked <= self.acked_before and self.delivered <= self.delivered_before:
            return False
        return bool(self.pending) or self.store.next_seq - 1 - self.acked > DRAIN_MIN

    def _on_reply(self, now, body):
        ctr, acked, t, items, why = A.parse(self.key, self.tag_id, body)
        out = self.out
        if why is None:
            if out is None:
                why = A.REPLAYED
            elif ctr != out[0]:
                why = A.STALE
            elif acked > self.store.next_seq - 1:
                why = A.AHEAD
        if why is not None or out is None or items is None:
            self._count(why)
            return why
        first, last = out[1], out[2]
        self.out = None
        self.failures = 0
        self._count(ACKED)
        if acked > self.acked:
            self.acked = acked
            self.store.ack(acked)
        # The batch was stored: its alerts are at the server even if `acked` is below them.
        for s in self.pending:
            if first <= s <= last and s > self.delivered:
                self.delivered = s
        self.pending = [s for s in self.pending if s > self.acked and not first <= s <= last]
        self.server_time = t
        for it in items:
            self._take(it[0], it[1], it[2])
        return ACKED

    def _take(self, kind, version, data):
        if version <= self.held.get(kind, 0):
            self._count("dl_old")  # held already (the server resends until `held` shows it)
            return
        chk = self.checks.get(kind)
        why = "dl_unknown"
        if chk is not None:
            try:
                why = "dl_taken" if chk(data) else "dl_bad"
            except MemoryError:  # its own path: the item may be good; the server resends it
                why = "dl_nomem"
        if why == "dl_taken":
            self.held[kind] = version
            self.items.append((kind, version, data))
            self._count(why)
            return
        self._count(why)
        if len(self.refused) < 8:
            self.refused.append((kind, version, why))

    def take_items(self):
        """Downlink items accepted since the last call, oldest first: (kind, version, data)."""
        it = self.items
        self.items = []
        return it
