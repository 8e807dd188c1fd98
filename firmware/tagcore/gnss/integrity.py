# GNSS integrity: is the receiver being jammed, shielded or spoofed? Rules and figures are in
# docs/integrity.md. Sans-I/O: the app sets `now` before it feeds the reader (the tag's clock,
# seconds since 2000; receiver time is what a spoofer controls).
#
#   g = Integrity()
#   g.attach(reader)          # the reader calls g.gsv(reader, buf) per GSV, g.epoch(fix) per epoch
#   g.now = now               # before each reader.feed / flush
#   g.fix(fix, ok, counts)    # the fix filter's verdict on each fix, and its counts
#   g.rx(flags)               # tagcore.gnss.ubx.integrity_of(...) of a UBX frame
#   ev = g.pop()              # (kind, t, evidence ints) or None; kind < K_END is an alert
#                             # (stored as tagcore.events.Integrity(t, kind, vals))
#   g.watch                   # True once a suspicion begins (the app raises the fix rate for
#                             # WATCH_S to confirm or clear it; it sets it back to False)
#
# Per epoch the GSVs give a compact C/N0 summary over the tracked satellites (count, max,
# mean, spread): no per-satellite objects. Epochs without a GSV say nothing about the sky.
from tagcore.compat import const
from tagcore.geo import dist_dm, isqrt
from tagcore.gnss.nmeafields import EMPTY

K_SHIELDING = const(1)  # strong C/N0 to nothing in one step (foil, a metal box)
K_JAMMING = const(2)  # C/N0 collapsing on every satellite together, or the receiver says so
K_SIGNAL_LOSS = const(3)  # strong to nothing across a receiver-off gap: shielding or jamming
K_SPOOFING = const(4)  # uniformly high C/N0 with little spread, or a clock that disagrees
K_RX_JAMMING = const(5)  # the receiver's own jamming flag (UBX-MON-RF / SEC-SIG), critical
K_RX_SPOOFING = const(6)  # the receiver's own spoofing flag (UBX-NAV-STATUS / SEC-SIG)
K_END = const(7)  # a signal-collapse episode ended (signals back): evidence, not an alert
K_MORE = const(8)  # another detector named an episode already alerted: evidence (its kind
# first), not an alert. One episode is one alert, whichever detector names it first.
NAMES = (
    "", "shielding", "jamming", "signal_loss", "spoofing", "rx_jamming", "rx_spoofing", "end",
    "more",
)  # fmt: skip
# Integrity.named: 1 << kind of what the open episodes stored (one word, not an attribute
# each: the instance's attributes are at a size step on MicroPython's heap)
_SPOOF_KINDS = const(0x50)  # 1 << K_SPOOFING | 1 << K_RX_SPOOFING
_DENY_KINDS = const(0x2E)  # shielding, jamming, signal loss, the receiver's jamming flag

_TRACK_N = const(4)  # tracked satellites that allow a fix
_STRONG_DB = const(28)  # a sky worth losing: more than _TRACK_N tracked, the best this strong
# (not a fix at the receiver's margin, where one step to nothing is ordinary)
_DROP_DB = const(12)  # a few weak satellites left count as dark if the max fell this much
_ONSET_S = const(180)  # the last good sky at most this long before the first dark epoch
_STEP_S = const(2)  # ... this close: the collapse was seen in one step (shielding)
HOLD_S = const(50)  # dark this long (and _HOLD_EPOCHS epochs) before the alert
_HOLD_EPOCHS = const(10)
# An onset across a receiver-off gap straight after a good sky: the darkness began somewhere in
# the gap, which already counts against the 2-minute target. The hold is what is left of
# _DUE_S since the good sky (5 s to spare: the epoch the hold ends in, the foil's ramp), never
# under _HOLD_MIN_S. The fixed plan's 60 s gap keeps the full HOLD_S; the model plan's still
# rate (a fix every 90 s) waited 90 s + 50 s before it (docs/integrity.md).
_DUE_S = const(115)
_HOLD_MIN_S = const(30)
_STILL_CMS = const(100)  # a fix this fast in the last _MOVED_S: the wearer is travelling, and a
_MOVED_S = const(180)  # collapse may be a tunnel or an underground line: it must last
_TRAVEL_HOLD_S = const(1800)  # this long before the alert
_MOVED_DM = const(1500)  # ... so does a fix 150 m from the one before (a car that stopped at
# lights for the fix; indoor multipath jumps are 20-80 m)
_UNI_N = const(6)  # uniform C/N0: this many tracked or more, mean >= _UNI_MEAN, spread <= _UNI_SD10
_UNI_MEAN = const(35)  # not 40: a receiver in power save (the model plan's cyclic tracking)
# reports a spoofer's 45 dB-Hz some dB lower (the simulator: 8 in a street); the spread is the
# signature, the floor only keeps out skies at the receiver's margin (24-30 dB-Hz)
_UNI_SD10 = const(10)  # 1.0 dB-Hz standard deviation (an open sky: 4-7; the corpus: >= 1.2)
UNI_EPOCHS = const(6)  # epochs in a row (not one search: a search ends at its first fix)
UNI_JUMP = const(3)  # ... or this many, with a jump or time going back the filter refused
_CLOCK_S = const(30)  # fix time against the tag's clock, beyond the offset learnt
CLOCK_FIXES = const(3)
_RX_REPORTS = const(2)  # the receiver's flag in this many reports in a row
_QUEUE_MAX = const(4)
WATCH_S = const(300)
# Integrity.cn0's slots: GSV sentences read, satellites tracked, the sum, the sum of squares and
# the maximum of their C/N0 (private: folded by the compiler, no name kept in RAM; the tests
# restate them by position)
_CN0_GSVS = const(0)
_CN0_TRACKED = const(1)
_CN0_SUM = const(2)
_CN0_SQUARES = const(3)
_CN0_MAX = const(4)


class Integrity:
    watch_s = WATCH_S  # how long the app raises the fix rate on a suspicion

    def __init__(self):
        self.now = 0
        # This epoch's C/N0 (dB-Hz) by CN0_*: one flat list, summed in place by every GSV
        # (no object per satellite or per sentence on the reader's hot path)
        self.cn0 = [0, 0, 0, 0, 0]
        self.seen = bytearray(16)  # (talker, signal) whose GSV cycle began in this epoch
        self.counts = {}
        self.queue = []
        self.watch = False
        # the last epoch's summary (tests, the serial console): tracked, max, mean and spread x10
        self.n = 0
        self.cn0_max = 0
        self.mean10 = 0
        self.sd10 = 0
        # signal collapse
        self.ref_t = -1  # the last good sky: when, tracked, max
        self.ref_n = 0
        self.ref_max = 0
        self.last_t = -1  # the last epoch with a GSV
        self.cand = -1  # first dark epoch of a suspected collapse; -1 none
        self.cand_k = 0
        self.dark = 0
        self.active = 0  # the kind alerted for the collapse going on; 0 none
        self.speed = 0  # the last fix's speed, cm/s
        self.moved_t = -1  # the last fix at _STILL_CMS or faster, or _MOVED_DM from the last
        self.last = None  # the last accepted fix
        self.hold = HOLD_S  # how long the suspected collapse must last
        # spoofing
        self.uni = 0
        self.clk = None  # fix time minus the tag's clock, learnt from the first fixes
        self.clk_bad = 0
        self.jumps = 0  # fixes the filter refused as jumps or time going back (its counts) ...
        self.jumps0 = 0  # ... when the last episode ended
        self.rx_jam = 0  # consecutive receiver reports saying jamming / spoofing
        self.rx_spf = 0
        self.rx_jam_t = -1  # the last report that said jamming (warning or worse)
        self.named = 0  # the open episodes (signals denied, spoofing): 1 << kind stored

    def attach(self, reader):
        reader.sky = self

    def alert(self, kind):
        """A circumvention alert (not the end of an episode)."""
        return kind < K_END

    def _named(self, kind, t, vals, x=None, y=None):
        """An alert, or evidence of the open episode of its family (K_MORE), once a kind."""
        bit = 1 << kind
        if self.named & bit:
            return
        family = _SPOOF_KINDS if bit & _SPOOF_KINDS else _DENY_KINDS
        opened = self.named & family
        self.named |= bit
        if opened:
            self._event(K_MORE, t, (kind,) + vals, x, y)  # noqa: RUF005 (no * in MicroPython)
        else:
            self._event(kind, t, vals, x, y)

    def pop(self):
        q = self.queue
        return q.pop(0) if q else None

    def _event(self, kind, t, vals, x=None, y=None):
        if x is not None:
            vals += (x, y)
        q = self.queue
        if len(q) >= _QUEUE_MAX:
            q.pop(0)
            self.counts["queue_overflow"] = self.counts.get("queue_overflow", 0) + 1
        q.append((kind, t, vals))  # the app encodes it (tagcore.events), as it stores it
        self.counts[NAMES[kind]] = self.counts.get(NAMES[kind], 0) + 1

    # ---- the reader's hook ------------------------------------------------------------------
    def gsv(self, r, buf):
        """A GSV's satellite blocks: the C/N0 every 4th field from 7 (0..99; empty: not
        tracked). A C/N0 out of range is counted and left out."""
        cn0 = self.cn0
        # A second cycle of one talker and signal without an epoch closing (receivers that
        # send no time): the summary starts again, so it covers one cycle.
        if r._f(buf, 2, 0) == 1:
            key = r.s_sys * 16 + (r.s_signal & 15 if r.s_signal >= 0 else 0)
            seen = self.seen
            if seen[key >> 3] & (1 << (key & 7)):
                self._reset()
                self.counts["gsv_restart"] = self.counts.get("gsv_restart", 0) + 1
            seen[key >> 3] |= 1 << (key & 7)
        k = 7
        nf = r.nfield
        while k <= nf and k < 21:  # fields past 20 are not located (more than 4 blocks)
            v = r._f(buf, k, 0)
            if v > 99 or (v < 0 and v != EMPTY):
                self.counts["bad_cno"] = self.counts.get("bad_cno", 0) + 1
            elif v > 0:
                cn0[_CN0_TRACKED] += 1
                cn0[_CN0_SUM] += v
                cn0[_CN0_SQUARES] += v * v
                if v > cn0[_CN0_MAX]:
                    cn0[_CN0_MAX] = v
            k += 4
        cn0[_CN0_GSVS] += 1

    def epoch(self, f):
        cn0 = self.cn0
        if cn0[_CN0_GSVS]:
            n = cn0[_CN0_TRACKED]
            self.n = n
            self.cn0_max = cn0[_CN0_MAX]
            if n:
                total = cn0[_CN0_SUM]
                self.mean10 = total * 10 // n
                self.sd10 = isqrt((n * cn0[_CN0_SQUARES] - total * total) * 100 // (n * n))
            else:
                self.mean10 = 0
                self.sd10 = 0
            self._collapse(self.now)
            self._uniform(self.now)
        self._reset()

    def _reset(self):
        cn0 = self.cn0
        for i in range(5):
            cn0[i] = 0
        seen = self.seen
        for i in range(16):
            seen[i] = 0

    # ---- jamming and shielding --------------------------------------------------------------
    def _collapse(self, now):
        n = self.n
        best = self.cn0_max
        live = self.last_t >= 0 and now - self.last_t <= _STEP_S  # the epoch before was seen
        prev = self.last_t
        self.last_t = now
        if n >= _TRACK_N:  # the receiver can fix: no collapse (or the end of one)
            if self.active:
                self._event(K_END, now, (self.active, now - self.cand, self.dark, n, best))
                self.active = 0
                self.named &= _SPOOF_KINDS
            self.cand = -1
            if n > _TRACK_N and best >= _STRONG_DB:  # a sky worth losing
                self.ref_t = now
                self.ref_n = n
                self.ref_max = best
            return
        if n and best + _DROP_DB > self.ref_max:  # a few satellites left, not much weaker
            self.cand = -1
            return
        # dark: nothing tracked, or a few much weaker than the sky before
        if self.active:
            self.dark += 1
            return
        if self.cand < 0:
            gap = now - self.ref_t
            if self.ref_t < 0 or gap > _ONSET_S:
                return
            self.cand = now
            self.dark = 0
            moving = self.moved_t >= 0 and now - self.moved_t <= _MOVED_S
            self.hold = _TRAVEL_HOLD_S if moving else HOLD_S
            if self.rx_jam_t >= 0 and now - self.rx_jam_t <= _ONSET_S:
                self.cand_k = K_JAMMING  # the receiver saw the jammer
            elif not live:
                self.cand_k = K_SIGNAL_LOSS  # the onset fell while the receiver was off
            elif gap <= _STEP_S:
                self.cand_k = K_SHIELDING  # a good sky, then nothing: one step
            else:
                self.cand_k = K_JAMMING  # watched collapsing on every satellite over seconds
            if not moving and not live and prev == self.ref_t:
                h = _DUE_S - gap  # a good sky, the receiver off, then dark at once
                if h < HOLD_S:
                    self.hold = h if h > _HOLD_MIN_S else _HOLD_MIN_S
        self.dark += 1
        if now - self.cand >= self.hold and self.dark >= _HOLD_EPOCHS:
            self.active = self.cand_k
            # evidence: dark for (s, epochs), the gap from the last good sky (tracked, max C/N0),
            # the last fix's speed, and whether the wearer was travelling (the hold)
            c = self.cand
            ev = (now - c, self.dark, c - self.ref_t, self.ref_n, self.ref_max)
            self._named(self.cand_k, c, ev, self.speed, self.hold)

    # ---- spoofing ---------------------------------------------------------------------------
    def _uniform(self, now):
        if self.n >= _UNI_N and self.mean10 >= _UNI_MEAN * 10 and self.sd10 <= _UNI_SD10:
            self.uni += 1
            if self.uni == 1 and not self.named & _SPOOF_KINDS:
                self.watch = True
            if self.uni >= UNI_EPOCHS or (self.uni >= UNI_JUMP and self.jumps > self.jumps0):
                self._spoof(now, 1)
        else:
            self.uni = 0

    def _spoof(self, now, why):
        if self.named & (1 << K_SPOOFING):
            return
        clk = 0 if self.clk is None else self.clk
        jumps = self.jumps - self.jumps0
        ev = (why, self.n, self.mean10, self.sd10, self.uni, jumps, self.clk_bad, clk)
        self._named(K_SPOOFING, now, ev)

    def fix(self, f, ok, counts):
        """The fix filter's verdict on a fix with a position (no-fix epochs are not passed) and
        the filter's counts (jumps and time going back are evidence of spoofing)."""
        if not ok:
            self.jumps = counts.get("jump", 0) + counts.get("time_backwards", 0)
        # The fix's time against the tag's clock (refused fixes too: a replay goes back in
        # time, which the filter refuses). Only agreeing, accepted fixes teach the offset.
        off = f.t - self.now
        clk = self.clk
        if clk is not None and (off - clk > _CLOCK_S or clk - off > _CLOCK_S):
            self.clk_bad += 1
            if self.clk_bad >= CLOCK_FIXES:
                self._spoof(self.now, 2)
            return
        if not ok:
            return
        self.clk_bad = 0
        self.clk = off
        if f.speed_cms is not None:
            self.speed = f.speed_cms
            if f.speed_cms >= _STILL_CMS:
                self.moved_t = self.now
        last = self.last
        if last is not None and dist_dm(last.lat, last.lon, f.lat, f.lon) >= _MOVED_DM:
            self.moved_t = self.now
        self.last = f
        if self.uni == 0 and self.clk_bad == 0 and self.rx_spf == 0:
            # a real sky, a clock that agrees and a receiver that says no spoofing: the
            self.named &= _DENY_KINDS  # episode is over, a new one may be alerted
            self.jumps0 = self.jumps

    # ---- the receiver's own flags -----------------------------------------------------------
    def rx(self, flags):
        if flags is None:
            return
        src, jam, spf, ind, agc = flags
        now = self.now
        if jam >= 2:
            self.rx_jam_t = now
        if jam >= 0:
            self.rx_jam = self.rx_jam + 1 if jam == 3 else 0
            if self.rx_jam == _RX_REPORTS:
                self._named(K_RX_JAMMING, now, (src, jam, ind, agc))
            elif jam == 1 and self.named & _DENY_KINDS == 1 << K_RX_JAMMING:
                # all clear from the receiver that named the episode (no collapse alerted): a
                # new one may be alerted. Nothing stored: its flag's alert carries no end.
                self.named &= _SPOOF_KINDS
        if spf >= 0:
            self.rx_spf = self.rx_spf + 1 if spf >= 2 else 0
            if self.rx_spf == _RX_REPORTS:
                self._named(K_RX_SPOOFING, now, (src, spf))
