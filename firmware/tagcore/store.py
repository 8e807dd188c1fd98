# Append-only log of fixes and events in fixed-size segment files (littlefs on the device).
#
# Durability contract (see docs/store.md):
#   - append_event: the event (and any fixes buffered before it) is synced before it returns;
#     it returns (seq, True).
#   - append_fix: the fix waits in RAM until `max_fixes` are buffered or the oldest buffered fix is
#     `max_age` seconds old (checked on every append_fix/tick); returns (seq, durable_now).
#   - A record is durable once its frame is synced (littlefs sync is atomic: all or nothing).
# Recovery scans every segment, keeps every frame whose CRC holds and whose sequence numbers
# continue the log, drops the rest (torn tails, damage), and resumes the sequence past anything
# that might have been handed out but not synced.
from tagcore import record as R
from tagcore.compat import const

SEG_BYTES = const(4096)  # one littlefs block on the ESP32
MAX_FIXES = const(32)
MAX_AGE = const(300)
THIN_CHUNK = const(64)  # fixes per frame when thinning re-frames a run (bounds RAM on the ESP32)


class OsFs:
    """The filesystem as the store sees it: `os` plus `open`, rooted at `root`."""

    def __init__(self, root):
        import os

        self.os = os
        self.root = root

    def listdir(self):
        return self.os.listdir(self.root)

    def open(self, name, mode):
        return open(self.root + "/" + name, mode)

    def remove(self, name):
        self.os.remove(self.root + "/" + name)

    def rename(self, a, b):
        self.os.rename(self.root + "/" + a, self.root + "/" + b)


def _frame_kept(out, kseq, keep, st):
    # Frame the fixes a thinning pass kept: every other fix of a run with stride st, so the kept
    # ones are st * 2 apart (a run at stride >= 128 is not thinned). True if more than one.
    out.extend(R.fixes_frame(kseq, keep, st * 2 if st < 128 else st))
    return len(keep) > 1


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
    ):
        self.fs = fs
        self.max_segments = max_segments
        self.seg_bytes = seg_bytes
        self.max_fixes = max_fixes
        self.max_age = max_age
        self.counts = {}
        self.segs = []  # [segno, first_seq, last_seq, size, has_fixes]
        self.buf = []  # buffered fixes, seqs next_durable..
        self.buf_seq = 0
        self.next_seq = 1
        self.file = None
        self.thinned = 0
        self.rbuf = bytearray(seg_bytes)  # the one buffer segments are read into
        self.thin_pend = None  # [count, first, last seq] thinned but not yet logged
        self.logging_thin = False
        self.now = now  # time of the latest call, stamped on EV_THINNED
        self.recover(now, rtc)

    def _count(self, k, n=1):
        self.counts[k] = self.counts.get(k, 0) + n

    # ---- recovery ------------------------------------------------------------------------
    def _scan(self, data, last):
        """Valid frames of one segment's bytes: (offsets list, last seq, has_fixes, clean)."""
        i = 0
        end = len(data)
        offs = []
        fixes = False
        clean = True
        while i < end:
            ln = R.check_frame(data, i, end)
            if ln:
                s = R.frame_seq(data, i)
                try:
                    R.frame_records(data, i, ln)
                    ok = s > last
                except Exception:
                    ok = False
                if ok:
                    offs.append(i)
                    last = R.frame_last_seq(data, i)
                    if data[i + 1] == R.KIND_FIXES:
                        fixes = True
                    i += ln
                    continue
                self._count("bad_frame")
            clean = False
            i += 1  # resync: look for the next valid frame
        return offs, last, fixes, clean

    def _load(self, name):
        """Segment `name`'s bytes in the store's own read buffer (valid until the next _load),
        or None if it cannot be read. The buffer is allocated once at start-up: a segment-sized
        allocation per read can fail on a fragmented ESP32 heap, and a failed read must never be
        taken for an empty segment."""
        try:
            f = self.fs.open(name, "rb")
            try:
                b = self.rbuf
                n = f.readinto(b) or 0
                if n == len(b):  # longer than a segment should be (damage): take all of it
                    rest = f.read()
                    if rest:
                        return bytes(b) + rest
                return memoryview(b)[:n]
            finally:
                f.close()
        except Exception:
            self._count("unreadable")
            return None

    def recover(self, now, rtc=None):
        """Rebuild the index from flash. After a deep sleep, `rtc` (tagcore.rtcstate bytes)
        restores the RAM buffer and sequence; otherwise (power-on, bad RTC state) an EV_BOOT
        event is logged, durable before any new seq is handed out, so that the next recovery
        knows where this run's sequence started."""
        if self.file is not None:
            try:
                self.file.close()
            except Exception:
                pass
        self.file = None
        self.segs = []
        self.buf = []
        nums = []
        try:
            names = self.fs.listdir()
        except Exception:
            names = []
        for name in names:
            if len(name) == 9 and name[0] == "s":
                try:
                    nums.append(int(name[1:]))
                except ValueError:
                    pass
            elif name[0:1] == "t":  # an unfinished thinning rewrite
                self._rm(name)
        nums.sort()
        last = 0
        unread = 0  # unreadable segments after the last one that held frames
        self.cur_clean = True
        for n in nums:
            data = self._load(_segname(n))
            if data is None:
                # Contents unknown: keep the file (never delete what could not be read) and
                # leave it out of the index; the next boot tries again.
                unread += 1
                self.cur_clean = False
                continue
            offs, nlast, fixes, clean = self._scan(data, last)
            self.cur_clean = clean
            if offs:
                self.segs.append([n, R.frame_seq(data, offs[0]), nlast, len(data), fixes])
                last = nlast
                unread = 0
            elif n != nums[-1]:
                self._rm(_segname(n))
            else:
                self.segs.append([n, last + 1, last, len(data), False])
        self.cur_no = nums[-1] if nums else 0
        # Up to max_fixes seqs (buffered fixes, an event in flight) may have been handed out
        # after the last synced frame, which is at least the previous run's EV_BOOT: skip them.
        # An unreadable segment newer than that may hold later seqs: skip as many as it could
        # (a record takes at least a byte, a thinned one at most 254 seqs).
        self.next_seq = last + 1 + self.max_fixes + unread * self.seg_bytes * 254
        self.buf_seq = self.next_seq
        if not self.cur_clean:
            self.cur_no += 1  # never append after damaged bytes
        self.boot_seq = 0
        if rtc is not None:
            from tagcore import rtcstate

            if rtcstate.resume(self, rtc):
                return last
            self._count("rtc_rejected")
        self.boot_seq = self.append_event(R.EV_BOOT, now, b"")[0]
        return last

    def _rm(self, name):
        try:
            self.fs.remove(name)
        except Exception:
            self._count("remove_failed")

    # ---- appending -----------------------------------------------------------------------
    def _write(self, fr, first, last, fixes):
        cur = self.segs[-1] if self.segs else [-1, 0, 0, 0, False]
        if cur[0] != self.cur_no or cur[3] + len(fr) > self.seg_bytes:
            if self.file is not None:
                self.file.close()
                self.file = None
            if cur[0] == self.cur_no:
                self.cur_no += 1  # the current segment is full
            cur = [self.cur_no, first, first - 1, 0, False]
            self.segs.append(cur)
            while len(self.segs) > self.max_segments and self._make_room():
                pass
        if self.file is None:
            self.file = self.fs.open(_segname(cur[0]), "ab")
        self.file.write(fr)
        self.file.flush()
        cur[2] = last
        cur[3] += len(fr)
        if fixes:
            cur[4] = True
        if self.thin_pend and not self.logging_thin:
            self._log_thinned()

    def _log_thinned(self):
        # The merged frames' doubled strides already say which fixes went (atomically with the
        # merge); this event says it in one record the server cannot miss. Logging it may roll
        # a segment and thin again, hence the loop.
        self.logging_thin = True
        try:
            while self.thin_pend:
                n, lo, hi = self.thin_pend
                self.thin_pend = None
                d = bytearray()
                R.put_varint(d, n)
                R.put_varint(d, lo)
                R.put_varint(d, hi)
                seq = self.next_seq
                self.next_seq += 1
                fr = R.frame(R.EV_THINNED, seq, R.event_payload(self.now, d))
                self._write(fr, seq, seq, False)
        finally:
            self.logging_thin = False

    def _flush_buf(self):
        if not self.buf:
            return
        fr = R.fixes_frame(self.buf_seq, self.buf)
        self._write(fr, self.buf_seq, self.buf_seq + len(self.buf) - 1, True)
        self.buf = []
        self.buf_seq = self.next_seq  # past the fixes and any EV_THINNED logged with them

    def append_fix(self, fix, now):
        """Queue a fix; returns (seq, durable). Raises only if the filesystem does."""
        seq = self.next_seq
        self.next_seq += 1
        self.now = now
        if not self.buf:
            self.buf_seq = seq
            self.buf_t = now
        self.buf.append(fix)
        if len(self.buf) >= self.max_fixes or now - self.buf_t >= self.max_age:
            self._flush_buf()
            return seq, True
        return seq, False

    def tick(self, now):
        """Flush buffered fixes whose age bound has passed; True if something was written."""
        self.now = now
        if self.buf and now - self.buf_t >= self.max_age:
            self._flush_buf()
            return True
        return False

    def flush(self):
        self._flush_buf()

    def flush_at(self):
        """When the buffered fixes must be written (their age bound), or None if none are."""
        return self.buf_t + self.max_age if self.buf else None

    def append_event(self, kind, t, data=b""):
        """Write an event (after any buffered fixes); returns (seq, True) once it is synced."""
        self.now = t
        self._flush_buf()
        seq = self.next_seq
        self.next_seq += 1
        self._write(R.frame(kind, seq, R.event_payload(t, data)), seq, seq, False)
        self.buf_seq = self.next_seq
        return seq, True

    def durable_seq(self):
        """Highest sequence number on flash (0 if none)."""
        return self.segs[-1][2] if self.segs else 0

    def newest_fix_t(self):
        """Fix.t of the newest fix held (RAM buffer, else the newest segment holding fixes), or
        None. At boot it raises the NMEA reader's date floor; reads one segment."""
        if self.buf:
            return self.buf[-1].t
        for k in range(len(self.segs) - 1, -1, -1):
            sg = self.segs[k]
            data = self._load(_segname(sg[0])) if sg[4] else None
            if data is None:
                continue
            t = None
            i = 0
            end = len(data)
            while i < end:
                ln = R.check_frame(data, i, end)
                if not ln:
                    i += 1
                    continue
                if data[i + 1] == R.KIND_FIXES:
                    try:
                        for r in R.frame_records(data, i, ln):
                            t = r[2].t
                    except Exception:
                        pass
                i += ln
            if t is not None:
                return t
        return None

    # ---- reading and acknowledging ----------------------------------------------------------
    def read(self, from_seq, limit=64, include_buffer=False):
        """Up to `limit` records with seq >= from_seq, in order: (seq, kind, Fix | (t, data)).
        Fewer than `limit` are returned when the log ends, or early when the heap runs short
        (counted `read_nomem`); a segment that cannot be read is skipped (`unreadable`)."""
        out = []  # type: list
        for sg in self.segs:
            if sg[2] < from_seq or sg[3] == 0:
                continue
            data = self._load(_segname(sg[0]))
            if data is None:
                continue  # counted; the caller must not acknowledge past what it did not get
            i = 0
            end = len(data)
            while i < end and len(out) < limit:
                ln = R.check_frame(data, i, end)
                if not ln:
                    i += 1
                    continue
                if R.frame_last_seq(data, i) < from_seq:  # wholly before: no need to decode
                    i += ln
                    continue
                try:
                    recs = R.frame_records(data, i, ln)
                except MemoryError:
                    # Not damage: the heap is short. Stop here, so that what is returned is
                    # every record from from_seq on up to its last (the uplink relies on it).
                    self._count("read_nomem")
                    return out
                except Exception:
                    recs = []
                for r in recs:
                    if r[0] >= from_seq and len(out) < limit and (not out or r[0] > out[-1][0]):
                        out.append(r)
                i += ln
            if len(out) >= limit:
                return out
        if include_buffer:
            for k in range(len(self.buf)):
                s = self.buf_seq + k
                if s >= from_seq and len(out) < limit:
                    out.append((s, R.KIND_FIXES, self.buf[k]))
        return out

    def ack(self, seq):
        """The server has everything up to `seq`: delete the segments wholly at or below it
        (never the newest, which carries the sequence across reboots). Returns how many."""
        n = 0
        while len(self.segs) > 1 and self.segs[0][2] <= seq:
            self._rm(_segname(self.segs.pop(0)[0]))
            n += 1
        return n

    # ---- flash full --------------------------------------------------------------------
    def _make_room(self):
        # Merge the two oldest adjacent segments that hold fixes into one, keeping every other
        # fix of each batch (repeatedly if needed); events are copied untouched.
        segs = self.segs
        for k in range(len(segs) - 2):
            if segs[k][4] and segs[k + 1][4]:
                try:
                    if self._merge(k):
                        return True
                except MemoryError:  # two segments at once did not fit: never fail the append
                    self._count("merge_nomem")
                    return False
        self._count("full")  # only events left: they are kept, the log grows past its budget
        return False

    def _thin_bytes(self, data):
        """(new bytes, fixes dropped, first, last dropped seq, fixes left) of one thinning pass.

        Fix frames whose sequence numbers continue each other (same stride, no event between)
        form a run: every other fix of the whole run is kept and the kept fixes are framed
        afresh, THIN_CHUNK at a time. Small batches (5 fixes per sync at 1 fix/min) then shrink
        as well as large ones: each frame's header and full first fix are paid per chunk,
        not per batch. Events and undecodable frames are copied untouched."""
        out = bytearray()
        gone = 0
        lo = hi = None
        left = False
        keep = []  # type: list  # kept fixes of the run not yet framed; the first has seq kseq
        kseq = 0
        nxt = -1  # the seq the run's next fix would have
        st = 0  # the run's stride as written
        n = 0  # fixes seen in the run
        i = 0
        end = len(data)
        while i < end:
            ln = R.check_frame(data, i, end)
            if not ln:
                i += 1
                continue
            recs = None
            if data[i + 1] == R.KIND_FIXES:
                try:
                    recs = R.frame_records(data, i, ln)
                except Exception:
                    recs = None
            if not recs:
                if keep:
                    left = _frame_kept(out, kseq, keep, st) or left
                    keep = []
                nxt = -1
                out.extend(data[i : i + ln])
                i += ln
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
                    if len(keep) >= THIN_CHUNK:
                        left = _frame_kept(out, kseq, keep, st) or left
                        keep = []
                n += 1
            nxt = recs[-1][0] + s
            i += ln
        if keep:
            left = _frame_kept(out, kseq, keep, st) or left
        return out, gone, lo, hi, left

    def _merge(self, k):
        a = self.segs[k]
        b = self.segs[k + 1]
        da = self._load(_segname(a[0]))
        if da is None:
            return False
        data = bytearray(da)
        db = self._load(_segname(b[0]))
        if db is None:
            return False
        data.extend(db)
        gone = 0
        lo = hi = None
        while True:
            data, g, a_lo, a_hi, left = self._thin_bytes(data)
            gone += g
            if a_lo is not None:
                lo = a_lo if lo is None or a_lo < lo else lo
                hi = a_hi if hi is None or a_hi > hi else hi
            if len(data) <= self.seg_bytes or not g:
                break
        if len(data) > self.seg_bytes:
            a[4] = False
            return False
        tmp = "t" + _segname(a[0])[1:]
        f = self.fs.open(tmp, "wb")
        f.write(data)
        f.close()
        # Atomic on littlefs. A cut before the remove leaves b's frames behind a's new last seq:
        # recovery skips them as already seen and deletes the emptied segment.
        self.fs.rename(tmp, _segname(a[0]))
        self._rm(_segname(b[0]))
        a[2] = b[2]
        a[3] = len(data)
        a[4] = left
        self.segs.pop(k + 1)
        if gone:
            self.thinned += gone
            self._count("thinned", gone)
            p = self.thin_pend
            if p is None:
                self.thin_pend = [gone, lo, hi]
            else:  # several merges before the record is logged: one record covers them all
                p[0] += gone
                p[1] = lo if lo < p[1] else p[1]
                p[2] = hi if hi > p[2] else p[2]
        return True
