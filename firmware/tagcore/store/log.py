# Append-only log of fixes and events in fixed-size segment files (littlefs on the device).
#
# Durability contract (see docs/store.md):
#   - append_event: the event (and any fixes buffered before it) is synced before it returns;
#     it returns (seq, True).
#   - append_fix: the fix waits in RAM until `max_fixes` are buffered or the oldest buffered fix is
#     `max_age` seconds old (checked on every append_fix/tick); returns (seq, durable_now).
#   - A record is durable once its frame is synced (littlefs sync is atomic: all or nothing).
# Recovery scans every segment, keeps every frame whose CRC holds and whose sequence numbers
# continue the log, drops the rest (torn tails, damage), and resumes the sequence at the floor: a
# small file, outside every segment, raised before a seq at or above it is handed out.
from tagcore.compat import const
from tagcore.store import record as R

SEG_BYTES = const(4096)  # one littlefs block on the ESP32
MAX_FIXES = const(32)
MAX_AGE = const(300)
THIN_CHUNK = const(32)  # fixes per frame when thinning re-frames a run (bounds RAM on the ESP32)

# read()'s failure: it stopped at a segment it could not read, or could not decode for lack of
# memory (never taken for damage: the caller retries later).
READ_UNREADABLE = "unreadable"
READ_NOMEM = "nomem"

RESERVE = "r"  # a file of `reserve` bytes given up when the partition is full
# No seq at or above the floor file's has been handed out. It is replaced whole (write, then an
# atomic rename; a "t" file left by a cut is removed at boot) and lives outside every segment:
# a segment that cannot be read at some boot cannot hide what the sequence reached.
FLOOR = "f"
FLOOR_TMP = "tf"
FLOOR_STEP = const(256)  # seqs handed out per floor write (and at most skipped per boot)
DROP_INTENT = "d"  # the EV_DROPPED of a segment being given up, until it is logged

# Store.segs: one list per segment, in order (a list, not an object: 400 segments of attributes
# would cost the ESP32 heap several times as much). Fields by index:
SEG_NO = const(0)  # segment number (file name)
SEG_FIRST = const(1)  # first seq it holds
SEG_LAST = const(2)  # last seq it holds
SEG_SIZE = const(3)  # bytes; -1: could not be read (a hole read() reports and ack() never passes)
SEG_FIXES = const(4)  # holds fixes (thinning may merge it)
SEG_CLEAN = const(5)  # nothing but frames taken: only clean segments are merged or appended to
SEG_KEPT = const(6)  # holds an alert (never given up whole; compaction keeps its alerts)


def _segname(n):
    s = str(n)
    return "s" + "0" * (8 - len(s)) + s


class Store:
    def __init__(
        self,
        fs,
        now=0,
        max_segments=400,
        seg_bytes=SEG_BYTES,
        max_fixes=MAX_FIXES,
        max_age=MAX_AGE,
        rtc=None,
        reserve=None,
        sealer=None,
        floor_step=FLOOR_STEP,
    ):
        self.rbuf = bytearray(seg_bytes)  # the one buffer segments are read into (first:
        # the largest block the store needs, taken before its own attributes fill the heap)
        self.fs = fs
        self.max_segments = max_segments
        self.seg_bytes = seg_bytes
        self.max_fixes = max_fixes
        self.max_age = max_age
        # The reserve is what lets an alert in when the partition is full (tagcore.store.full):
        # on by default (one segment), so that the shells need not know to ask for it; 0: off.
        self.reserve = seg_bytes if reserve is None else reserve
        self.has_reserve = False
        self.stuck = False  # the last write found no room: seqs only with a synced frame
        self.drop_pend = None  # [count, first, last seq] given up but not yet logged
        self.drop_last = None  # while scanning: the newest EV_DROPPED's data (after its t)
        self.counts = {}
        self.segs = []  # [SEG_NO .. SEG_KEPT] per segment (above)
        self.buf = []  # buffered fixes, seqs next_durable..
        self.buf_seq = 0
        self.buf_t = 0  # when the oldest buffered fix was appended
        self.next_seq = 1
        self.floor = 0  # the floor on flash (0: none yet): seqs below it may have been handed out
        self.floor_step = floor_step
        self.file = None
        self.thinned = 0
        # A merge's two buffers (two segments each: its input and one thinning pass's output),
        # allocated at the first merge and kept (merges then come at every new segment); if the
        # heap cannot give them, the log grows past its budget (counted merge_nomem) until a
        # later merge can. Not at start-up: a tag that never fills its log never pays for them.
        self.mbufs = None  # type: tuple | None
        self.thin_pend = None  # [count, first, last seq] thinned but not yet logged
        self.thin_total = 0  # fixes thinned since the log began (recovery reads it back)
        self.mark = [0, 0, 0]  # while scanning: the newest KIND_MARK [total thinned, lo, hi]
        self.logged = 0  # while scanning: the highest total an EV_THINNED on flash says
        self.tail_bad = 0  # while scanning: damaged bytes after the last frame taken
        self.junk = False  # set by frames(): the bytes it skips are damage
        self.logging_thin = False
        self.now = now  # time of the latest call, stamped on EV_THINNED
        self.sealer = sealer  # tagcore.store.seal.Sealer or None (docs/evidence.md)
        self.seal_seq = 0  # while scanning: the newest EV_SEAL's seq
        self.recover(now, rtc)

    def reserve_merge(self):
        """Take the merge's two buffers now rather than at the first merge: a shell calls it at
        boot, while the heap is whole, so a log that fills weeks later can still be thinned in
        a heap left in pieces (otherwise merge_nomem and the log outgrows its budget). Raises
        MemoryError if the heap cannot give them now (nothing changed)."""
        if self.mbufs is None:
            n = 2 * self.seg_bytes + 64
            self.mbufs = (bytearray(n), bytearray(n))

    def _count(self, k, n=1):
        self.counts[k] = self.counts.get(k, 0) + n

    # ---- scanning ------------------------------------------------------------------------
    def _step(self, data, i, end, last):
        """How to move over data[i:] given the last seq taken: ln > 0, a frame to take (a
        record frame with a new seq, or a KIND_MARK: a merge's, its seq the highest its sources
        had); -n, pass over n bytes (self.junk: damage, or a valid frame already seen, such as
        a merge's stale copy). The one rule for what a segment holds for the index: the scan,
        read(), the seal, the uplink and the accounts of a drop take exactly these frames.
        Allocates nothing."""
        ln = R.check_frame(data, i, end)
        if ln:
            if R.payload_ok(data, i, ln):
                s = R.frame_seq(data, i)
                if s > last or (data[i + 1] == R.KIND_MARK and s == last):
                    return ln
                self.junk = False
                return -ln
            self._count("bad_frame")
        self.junk = True
        # a damaged frame is passed over whole where its length can be trusted: a crafted
        # frame in its data, taken for a record, would hide every later seq
        return -(R.damaged_len(data, i, end) or 1)

    def frames(self, data, last, lo=0, skips=False):
        """The frames segment bytes `data` hold, given the last seq taken before them (the
        segment's SEG_FIRST - 1): yields the offset i of each frame taken (kind data[i + 1],
        length R.frame_len(data, i)) whose last seq is at least `lo`, by _step's rule. The
        walk of the scan, the seal, the uplink, the accounts of a drop and newest_fix_t;
        read() loops on _step itself (no generator: its 192 B at every upload read were what
        a board without PSRAM could not find, tests/test_sim_heap.py). skips: also yield -n
        for n bytes passed over, self.junk saying whether they are damage or a valid frame
        already seen (a merge's stale copy), for the scan's accounts."""
        i = 0
        end = len(data)
        while i < end:
            ln = self._step(data, i, end, last)
            if ln <= 0:
                if skips:
                    yield ln
                i -= ln
                continue
            last = R.frame_last_seq(data, i)  # a KIND_MARK's: its seq
            if last >= lo:
                yield i
            i += ln

    def _scan(self, n, data, last, walk):
        """Index segment n's bytes (walk: self.frames(data, last, 0, True)): appends its entry
        to self.segs if it holds frames we take. Returns (taken, last seq, damaged bytes)."""
        first = -1
        fixes = False
        junk = 0
        stale = False
        at = -1  # the last frame taken
        kept = False
        for i in walk:
            if i < 0:  # -i bytes skipped
                if self.junk:
                    junk -= i
                    self.tail_bad -= i
                else:
                    self._count("stale_frame")
                    stale = True
                continue
            kind = data[i + 1]
            at = i
            self.tail_bad = 0
            if kind == R.KIND_MARK:
                self._note(data, i, R.frame_len(data, i), kind)
            else:
                if first < 0:
                    first = R.frame_seq(data, i)
                if kind == R.KIND_FIXES:
                    fixes = True
                elif R.kept_kind(kind):
                    kept = True
                elif kind == R.EV_THINNED or kind == R.EV_DROPPED:
                    self._note(data, i, R.frame_len(data, i), kind)
                elif kind == R.EV_SEAL:
                    self.seal_seq = R.frame_seq(data, i)
        if at >= 0:
            last = R.frame_last_seq(data, at)
            if first < 0:
                first = last + 1
            self.segs.append([n, first, last, len(data), fixes, junk == 0 and not stale, kept])
        return at >= 0, last, junk

    def _note(self, data, i, ln, kind):
        from tagcore.store import thin as storethin

        storethin.note_frame(self, data, i, ln, kind)

    def _log_thinned(self):
        from tagcore.store import thin as storethin

        storethin.log_accounts(self)

    def _put_file(self, name, b, times=1):
        from tagcore.store import thin as storethin

        return storethin.put_file(self, name, b, times)

    def _load(self, name):
        """Segment `name`'s bytes in the store's own read buffer (valid until the next _load),
        or None if it cannot be read (OSError, counted). The buffer is allocated once at
        start-up: a segment-sized allocation per read can fail on a fragmented ESP32 heap, and
        a failed read must never be taken for an empty segment. MemoryError is left to the
        caller: out of memory is never damage."""
        try:
            f = self.fs.open(name, "rb")
        except OSError:
            self._count("unreadable")
            return None
        try:
            b = self.rbuf
            n = f.readinto(b) or 0
            rest = f.read() if n == len(b) else None  # longer than a segment should be
        except OSError:
            self._count("unreadable")
            rest = b = None
        try:
            f.close()
        except OSError:
            pass
        if b is None:
            return None
        if rest:  # damage made it long: take all of it
            return bytes(b) + rest
        return memoryview(b)[:n]

    # ---- recovery ------------------------------------------------------------------------
    def recover(self, now, rtc=None):
        """Rebuild the index from flash. After a deep sleep, `rtc` (tagcore.store.rtcstate bytes)
        restores the RAM buffer and sequence; otherwise (power-on, bad RTC state) an EV_BOOT
        event is logged, durable before any new seq is handed out, so that the next recovery
        knows where this run's sequence started. Raises MemoryError if the heap cannot open
        the floor file (not knowing it could repeat seqs; segments it cannot load are holes)."""
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
        self.file = None
        self.segs = []
        self.buf = []
        self.thin_pend = None
        self.drop_pend = None
        self.drop_last = None
        self.has_reserve = False
        self.mark = [0, 0, 0]
        self.logged = 0
        self.tail_bad = 0
        self.seal_seq = 0
        nums = []
        try:
            names = self.fs.listdir()
        except OSError:
            self._count("unreadable")
            names = []
        for name in names:
            if len(name) == 9 and name[0] == "s":
                try:
                    nums.append(int(name[1:]))
                except ValueError:
                    pass
            elif name[0:1] == "t":  # an unfinished merge: its sources are still there
                self._rm(name)
            elif name == RESERVE:
                self.has_reserve = True
        nums.sort()
        floor = self._read_floor(names)
        last = 0
        unread = 0  # segments of unknown contents after the last one that held frames
        room = 0  # bytes the newest segment had yet to fill: frames there may have gone
        self.cur_no = (nums[-1] + 1) if nums else 0  # never append after bytes not taken
        for n in nums:
            try:
                data = self._load(_segname(n))
                walk = self.frames(data, last, 0, True)  # its generator, allocated here too
            except MemoryError:
                self._count("nomem")
                data = None
            if n == nums[-1] and data is not None and len(data) < self.seg_bytes:
                room = self.seg_bytes - len(data)
            if data is None:
                # Contents unknown: keep the file (never delete what could not be read); its
                # place in the index is a hole that read() reports and ack() never passes.
                self.segs.append([n, last + 1, last, -1, False, False, True])
                unread += 1
                continue
            taken, nlast, junk = self._scan(n, data, last, walk)
            if taken:
                last = nlast
                unread = 0
                if n == nums[-1] and self.segs[-1][SEG_CLEAN]:
                    self.cur_no = n
            elif junk:
                self._count("damaged_kept")  # evidence: kept on flash, out of the index
            else:  # empty, or only frames already seen (a merge's stale source): no loss
                self._rm(_segname(n))
                if n == nums[-1]:
                    self.cur_no = n
        # Every seq handed out is below the floor: resume there, whatever could not be read.
        # Without one (a log from before it, or the file lost): up to max_fixes seqs (buffered
        # fixes, an event in flight) may have been handed out after the last synced frame;
        # bytes of unknown contents after it (an unreadable segment, a damaged tail) may hold
        # later seqs, as many as they could (a record takes at least a byte, a thinned one at
        # most 254 seqs). That guess failed when a segment's seqs did not start right after
        # the last readable one (a boot's skip): seqs were repeated. A merge's KIND_MARK keeps
        # `last` at the highest seq its sources had, even when thinning dropped that record.
        # Bytes gone from the newest segment's end leave nothing to see when the cut falls
        # between frames: skip what its missing room could have held (appended there, never
        # thinned: a record takes at least 5 bytes, so at most 819 seqs for 4 KB segments).
        if self.tail_bad:
            self._count("tail_torn")  # a frame cut short or spoilt after the last one taken
        self.floor = floor
        if floor > last:
            self.next_seq = floor
        else:
            bad = self.tail_bad + unread * self.seg_bytes
            self.next_seq = last + 1 + self.max_fixes + bad * 254 + room // 5
        self.buf_seq = self.next_seq
        for k in range(len(self.segs) - 1, -1, -1):
            sg = self.segs[k]
            if sg[SEG_SIZE] < 0:  # a hole holds seqs below the next segment's first
                nxt = self.segs[k + 1][SEG_FIRST] if k + 1 < len(self.segs) else self.next_seq
                sg[SEG_LAST] = nxt - 1
        self.thin_total = self.mark[0] if self.mark[0] > self.logged else self.logged
        if self.mark[0] > self.logged:  # a cut between a merge and its EV_THINNED: log it now
            self.thin_pend = [self.mark[0] - self.logged, self.mark[1], self.mark[2]]
        if DROP_INTENT in names:
            from tagcore.store import full as storefull

            storefull.read_intent(self)
        if self.thin_pend or self.drop_pend:
            self._log_thinned()
        if self.reserve > 0 and not self.has_reserve:
            self._make_reserve()
        if self.sealer is not None:
            self.sealer.boot(now, self)
        self.boot_seq = 0
        if rtc is not None:
            from tagcore.store import rtcstate

            if rtcstate.resume(self, rtc):
                if self.sealer is not None:
                    self.sealer.due = False  # a wake from deep sleep is no epoch end
                return last
            self._count("rtc_rejected")
        self.boot_seq = self.append_event(R.EV_BOOT, now, b"")[0]
        return last

    def _read_floor(self, names):
        # The floor file's seq, or 0 if there is none or it cannot be read (counted): read into
        # the segment buffer, so the only allocation is the file object.
        if FLOOR not in names:
            return 0
        n = -1
        try:
            f = self.fs.open(FLOOR, "rb")
        except OSError:
            f = None
        if f is not None:
            try:
                n = f.readinto(self.rbuf) or 0
            except OSError:
                pass
            try:
                f.close()
            except OSError:
                pass
        b = self.rbuf
        if n == R.OVERHEAD and R.check_frame(b, 0, n) == n and b[1] == R.KIND_FLOOR:
            return R.frame_seq(b, 0)
        self._count("floor_unreadable")
        return 0

    def _raise_floor(self, f):
        # Put floor f on flash. A full partition gives up what _append would; False if nothing
        # is left (counted).
        fr = R.frame(R.KIND_FLOOR, f, b"")
        while True:
            try:
                h = self.fs.open(FLOOR_TMP, "wb")
                try:
                    h.write(fr)
                except OSError:
                    h.close()
                    raise
                h.close()
                self.fs.rename(FLOOR_TMP, FLOOR)
                break
            except OSError as e:
                if not e.args or e.args[0] != 28:
                    raise
                from tagcore.store import full as storefull

                if not storefull.make_space(self):
                    self._count("floor_nospace")
                    self._rm(FLOOR_TMP)
                    return False
        self.floor = f
        return True

    def _take(self):
        """The next seq, handed out; 0 if the floor could not be raised for it (no room):
        nothing handed out. Every seq the store hands out comes from here. The floor on flash
        stays above next_seq too: a cut while s is on its way (written, not yet returned) still
        leaves the next boot above it."""
        s = self.next_seq
        if s + 1 >= self.floor and not self._raise_floor(s + 1 + self.floor_step):
            return 0
        self.next_seq = s + 1
        return s

    def _rm(self, name):
        try:
            self.fs.remove(name)
            return True
        except OSError:
            self._count("remove_failed")
            return False

    def _make_reserve(self):
        # Written here, not in tagcore.store.full: with the reserve on by default every first
        # boot makes it, and the full-partition code is loaded only when the partition is full.
        # Closed on the error path only for an OSError (nothing stands in for a power cut).
        if self.reserve <= 0 or self.has_reserve:
            return
        try:
            f = self.fs.open(RESERVE, "wb")
        except OSError:
            f = None
        ok = f is not None
        if ok:
            # Written from the segment buffer, zeroed in place (recovery is done with it): a
            # filler allocated here left a hole that a TLS handshake at 96 KB could not fit.
            b = self.rbuf
            for i in range(len(b)):
                b[i] = 0
            left = self.reserve
            try:
                while left > 0:
                    f.write(b if left >= len(b) else memoryview(b)[:left])
                    left -= len(b)
            except OSError:
                ok = False
            try:
                f.close()
            except OSError:
                ok = False
        if ok:
            self.has_reserve = True
        else:  # no room for it now: the next boot tries again
            self._count("reserve_failed")
            self._rm(RESERVE)

    # ---- appending -----------------------------------------------------------------------
    def _write(self, fr, first, last):
        cur = self.segs[-1] if self.segs else None
        if cur is None or cur[SEG_NO] != self.cur_no or cur[SEG_SIZE] + len(fr) > self.seg_bytes:
            if self.file is not None:
                self.file.close()
                self.file = None
            if cur is not None and cur[SEG_NO] >= self.cur_no:
                self.cur_no = cur[SEG_NO] + 1  # the current segment is full
            cur = [self.cur_no, first, first - 1, 0, False, True, False]
            self.segs.append(cur)
            while len(self.segs) > self.max_segments and self._make_room() > 0:
                pass
        if not self._append(cur, fr):
            return False
        cur[SEG_LAST] = last
        cur[SEG_SIZE] += len(fr)
        if fr[1] == R.KIND_FIXES:
            cur[SEG_FIXES] = True
        elif R.kept_kind(fr[1]):
            cur[SEG_KEPT] = True
        if (self.thin_pend or self.drop_pend) and not self.logging_thin:
            self._log_thinned()
        if self.sealer is not None and not self.logging_thin:
            self.sealer.after_write(self, fr[1])
        return True

    def _append(self, cur, fr):
        # One synced write. A full partition (ENOSPC) gives up the oldest segment without an
        # alert, else the reserve file, and tries again; if nothing is left to give, the frame
        # is not stored (counted "nospace") and the caller is told: never raised.
        while True:
            try:
                if self.file is None:
                    self.file = self.fs.open(_segname(cur[SEG_NO]), "ab")
                self.file.write(fr)
                self.file.flush()
                return True
            except OSError as e:
                if not e.args or e.args[0] != 28:
                    raise
                from tagcore.store import full as storefull

                if not storefull.make_space(self):
                    return False

    def _close(self):
        if self.file is not None:
            f = self.file
            self.file = None
            try:
                f.close()
            except OSError:
                pass

    def _flush_buf(self):
        if not self.buf:
            return True
        fr = R.fixes_frame(self.buf_seq, self.buf)
        ok = self._write(fr, self.buf_seq, self.buf_seq + len(self.buf) - 1)
        if not ok:  # no room at all: the fixes, never promised durable, go (counted)
            self._count("fixes_nospace", len(self.buf))
            self.stuck = True  # their seqs are within max_fixes of the last synced frame
        self.buf = []
        self.buf_seq = self.next_seq  # past the fixes and any EV_THINNED logged with them
        return ok

    def _due(self, now):
        # the age bound; a clock that went backwards cannot say how long the fixes waited
        return now - self.buf_t >= self.max_age or now < self.buf_t

    def append_fix(self, now, fix):
        """Queue a fix; returns (seq, durable). A fix the store could not keep unchanged
        raises ValueError before anything changes; otherwise raises only if the filesystem
        does (not for a full partition). (0, False): the partition is full, the fix is not
        kept and has no seq."""
        err = R.fix_error(fix)
        if err is not None or not isinstance(now, int):
            raise ValueError("append_fix: " + (err or "now not an int"))
        self.now = now
        if self.stuck:
            from tagcore.store import full as storefull

            return storefull.append_stuck(self, fix)
        seq = self._take()
        if not seq:
            self._count("fixes_nospace")
            return 0, False
        if not self.buf:
            self.buf_seq = seq
            self.buf_t = now
        self.buf.append(fix)
        if len(self.buf) >= self.max_fixes or self._due(now):
            return seq, self._flush_buf()
        return seq, False

    def tick(self, now):
        """Flush buffered fixes whose age bound has passed; True if something was written."""
        self.now = now
        if self.buf and self._due(now):
            return self._flush_buf()
        return False

    def flush(self):
        self._flush_buf()

    def flush_at(self):
        """When the buffered fixes must be written (their age bound), or None if none are."""
        return self.buf_t + self.max_age if self.buf else None

    def append_event(self, kind, t, data=b""):
        """Write an event (after any buffered fixes); returns (seq, True) once it is synced,
        (seq, False) if the buffered fixes before it found no room, (0, False) if it found none
        itself (it has no seq then; nothing is raised for a full partition).
        An event the log cannot hold as given (kind not an event kind in a byte, data not
        bytes or too long for a frame) raises ValueError before anything changes."""
        if not isinstance(kind, int) or not R.EV_FIRST <= kind <= 255:
            raise ValueError("append_event: kind must be in 16..255")
        if kind == R.EV_THINNED or kind == R.EV_DROPPED or kind == R.EV_SEAL:
            raise ValueError("append_event: the store's own account kinds")
        if not isinstance(t, int) or not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError("append_event: t must be an int and data bytes")
        # A frame must fit a segment: one the store could not read back into its segment
        # buffer would stall every later read on a small heap.
        n = R.varint_len(R.zz(t)) + len(data)
        if n > R.MAX_PAYLOAD or n + R.OVERHEAD > self.seg_bytes:
            raise ValueError("append_event: data too long")
        p = R.event_payload(t, data)
        self.now = t
        ok = self._flush_buf()
        seq = self._take()
        if not seq:
            return 0, False
        if not self._write(R.frame(kind, seq, p), seq, seq):
            self.next_seq = seq  # never handed out: nothing says so on flash
            self.buf_seq = seq
            self.stuck = True
            return 0, False
        self.stuck = False
        self.buf_seq = self.next_seq
        return seq, ok

    def ram_state(self):
        """(next_seq, buf_seq, buf_t, buffered fixes): what lives only in RAM, for
        tagcore.store.rtcstate to keep across a deep sleep. The list is the store's own: read it."""
        return self.next_seq, self.buf_seq, self.buf_t, self.buf

    def resume_ram(self, next_seq, buf_seq, buf_t, fixes):
        """Take back what ram_state() said before a deep sleep (tagcore.store.rtcstate checked it
        against the log: buf_seq above every durable seq, next_seq == buf_seq + len(fixes))."""
        self.next_seq = next_seq
        self.buf_seq = buf_seq
        if fixes:
            self.buf = fixes
            self.buf_t = buf_t

    def durable_seq(self):
        """Highest sequence number on flash (0 if none)."""
        return self.segs[-1][SEG_LAST] if self.segs else 0

    def newest_fix_t(self):
        """Fix.t of the newest fix held (RAM buffer, else the newest segment holding fixes), or
        None. At boot it raises the NMEA reader's date floor; reads one segment."""
        if self.buf:
            return self.buf[-1].t
        for k in range(len(self.segs) - 1, -1, -1):
            sg = self.segs[k]
            if sg[SEG_SIZE] < 0 or not sg[SEG_FIXES]:  # unreadable, or no fixes in it
                continue
            try:
                data = self._load(_segname(sg[SEG_NO]))
                walk = self.frames(data, sg[SEG_FIRST] - 1)  # the fixes the index holds
            except MemoryError:  # the floor stays where it is: never a reason to fail a boot
                return None
            if data is None:
                continue
            t = None
            for i in walk:
                if data[i + 1] == R.KIND_FIXES:
                    try:
                        for r in R.frame_records(data, i, R.frame_len(data, i)):
                            t = r[2].t
                    except (ValueError, MemoryError):  # a frame it cannot decode: the one before
                        pass
            if t is not None:
                return t
        return None

    # ---- reading and acknowledging ----------------------------------------------------------
    def read(self, from_seq, limit=64, include_buffer=False):
        """(records, failure): up to `limit` records with seq >= from_seq, in order, each
        (seq, kind, Fix | (t, data)); failure is None, or READ_UNREADABLE / READ_NOMEM when
        the read stopped at a segment it could not read or decode for lack of memory. The
        records returned always precede what could not be read: acknowledging the last one
        never deletes a record that was not served."""
        out = []  # type: list
        for sg in self.segs:
            if sg[SEG_LAST] < from_seq or sg[SEG_SIZE] == 0:
                continue
            if sg[SEG_SIZE] < 0:
                return out, READ_UNREADABLE
            try:
                data = self._load(_segname(sg[SEG_NO]))
            except MemoryError:
                self._count("read_nomem")
                return out, READ_NOMEM
            if data is None:
                return out, READ_UNREADABLE
            i = 0
            end = len(data)
            last = sg[SEG_FIRST] - 1
            while i < end:
                ln = self._step(data, i, end, last)
                if ln <= 0:
                    i -= ln
                    continue
                at = i
                i += ln
                if data[at + 1] == R.KIND_MARK:
                    last = R.frame_seq(data, at)
                    continue
                last = R.frame_last_seq(data, at)
                if last < from_seq:
                    continue
                try:
                    recs = R.frame_records(data, at, ln)
                except MemoryError:
                    self._count("read_nomem")
                    return out, READ_NOMEM
                for r in recs:
                    if r[0] >= from_seq:
                        if len(out) >= limit:
                            return out, None
                        out.append(r)
        if include_buffer:
            for k in range(len(self.buf)):
                s = self.buf_seq + k
                if s >= from_seq and len(out) < limit:
                    out.append((s, R.KIND_FIXES, self.buf[k]))
        return out, None

    def ack(self, seq):
        """The server has everything up to `seq`: delete the segments wholly at or below it
        (never the newest, which carries the sequence across reboots, and never past a
        segment that could not be read). Returns how many. A seq never handed out raises
        ValueError before anything changes."""
        if not isinstance(seq, int) or seq < 0 or seq >= self.next_seq:
            raise ValueError("ack: seq never issued")
        n = 0
        while len(self.segs) > 1 and self.segs[0][SEG_LAST] <= seq and self.segs[0][SEG_SIZE] >= 0:
            self._rm(_segname(self.segs.pop(0)[SEG_NO]))
            n += 1
        return n

    # ---- flash full --------------------------------------------------------------------
    def _make_room(self):
        # Merge the two oldest adjacent segments that hold fixes into one, keeping every other
        # fix of each batch (repeatedly if needed); events are copied untouched.
        # Only clean segments (nothing but frames taken) are merged: damaged bytes stay where
        # they are, out of the index but on flash.
        segs = self.segs
        for k in range(len(segs) - 2):
            if (
                segs[k][SEG_FIXES]
                and segs[k + 1][SEG_FIXES]
                and segs[k][SEG_CLEAN]
                and segs[k + 1][SEG_CLEAN]
            ):
                try:
                    from tagcore.store import thin as storethin

                    if storethin.merge(self, k):
                        return 1
                except MemoryError:  # two segments at once did not fit: never fail the append
                    self._count("merge_nomem")
                    return -1
        self._count("full")  # nothing left to thin: a segment is given up, or the log grows
        return 0
