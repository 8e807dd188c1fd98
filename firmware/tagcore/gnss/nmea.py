# NMEA 0183 front end: UART bytes in, fixes out.
#
# NmeaReader.feed() takes byte chunks of any size split anywhere. Sentences are framed on '$'
# and the line end, checked (length cap, printable ASCII, checksum in either hex case), dispatched
# on the 3-letter formatter of the GNSS talkers, and decoded in place with allocation-free field
# parsers into the open Epoch; a finished epoch becomes a Fix in a small queue. Every byte or
# sentence that is not used is counted in `counts` by reason. Nothing here raises on any input
# and nothing grows without bound: one fixed line buffer, a fixed field table, a capped queue.
from tagcore.compat import const
from tagcore.geo import isqrt
from tagcore.gnss.epoch import (
    DateKeeper,
    Epoch,
    close_epoch,
    days_from_civil,
    mode_quality,
    valid_date,
)
from tagcore.gnss.nmeafields import (
    BAD,
    EMPTY,
    char,
    dec,
    hexbyte,
    hexdigit,
    latlon,
    tod_ms,
    xor_printable,
)

LINE_MAX = const(128)  # longest sentence kept, '$' to checksum (NMEA says 82; receivers exceed it)
_MAXF = const(40)  # most fields in a sentence we decode
QUEUE_MAX = const(8)  # fixes waiting for pop(); the oldest is dropped (and counted) beyond this

CS_REQUIRE = const(0)  # a sentence without a checksum is dropped
CS_ACCEPT = const(1)  # a sentence without a checksum is used
CS_AUTO = const(2)  # used only until the stream has shown one valid checksum

DEFAULT_FLOOR_DAYS = const(9497)  # 2026-01-01: no tag built now sees an earlier date
DEFAULT_UERE_DM = const(40)  # 4 m user-equivalent range error: accuracy = HDOP x UERE
_DAY_S = const(86400)

# Epoch.tod of an epoch opened by a time-less sentence: the next timed sentence gives its time.
_PENDING = const(-2)
# Position sources by rank (Epoch.position): the fix's position comes from the sentence its
# quality, HDOP and altitude come from (GGA, else GNS); RMC and GLL only when neither spoke.
_SRC_RMC = const(1)  # RMC, GLL
_SRC_GNS = const(2)
_SRC_GGA = const(3)

# Formatter codes: the three letters packed into an int, so dispatch needs no slicing.
_GGA = const(0x474741)
_RMC = const(0x524D43)
_GLL = const(0x474C4C)
_GSA = const(0x475341)
_GSV = const(0x475356)
_VTG = const(0x565447)
_ZDA = const(0x5A4441)
_GNS = const(0x474E53)
_GST = const(0x475354)

# GNSS talkers: the constellation slot ('0' + slot; '-': none) of a 'G' talker by its second
# letter A..Z: GA Galileo 3, GB BeiDou 4, GI NavIC 6, GL GLONASS 2, GN combined 0, GP GPS 1,
# GQ QZSS 5; BD (BeiDou) and QZ (QZSS), the older talkers, are tested apart. A bytes constant,
# not a dict: no heap per entry, no slot in the globals.
_G_TALKERS = const(b"34------6--2-0-15---------")


def _bump(counts, key):
    counts[key] = counts.get(key, 0) + 1


class NmeaReader:
    def __init__(self, checksum=CS_AUTO, floor_days=DEFAULT_FLOOR_DAYS, uere_dm=DEFAULT_UERE_DM):
        self.checksum = checksum  # CS_AUTO turns into CS_REQUIRE at the first valid checksum
        self.uere_dm = uere_dm
        self.counts = {}
        self.sentences = 0  # sentences decoded and used
        self.epochs = 0  # epochs closed into fixes
        self.line = bytearray(LINE_MAX + 2)  # a sentence split across chunks
        self.llen = 0  # bytes held in self.line; 0 = between sentences
        self.lover = False  # the held sentence outgrew LINE_MAX: drop it at its end
        # Where the last chunk left the framer: 1 at a line start (a '#' there starts a '#'
        # line), 2 inside a '#' line (a capture's comment, a NovAtel-style log), 0 elsewhere.
        self.bol = 1
        self.commas = bytearray(_MAXF + 1)  # comma offsets from the '$' of the sentence decoded
        self.start = 0  # where that sentence starts in its buffer
        self.nfield = 0  # how many fields it has
        self.ep = Epoch()
        self.dates = DateKeeper(floor_days)
        self.queue = []
        # The last sentence decoded (for tests and the serial console): formatter code, talker
        # slot, time of day in ms, raw date as day number, position in microdegrees.
        self.s_type = 0
        self.s_sys = 0
        self.s_tod = EMPTY
        self.s_days = EMPTY
        self.s_lat = EMPTY
        self.s_lon = EMPTY
        self.s_signal = EMPTY  # GSV NMEA 4.10 signal ID (hex digit, 0..15)
        # The integrity checks' hook (tagcore.gnss.integrity.Integrity), None when none is attached:
        # sky.gsv(reader, buf) reads a GSV's satellite blocks (fields located up to 20),
        # sky.epoch(fix or None) sees each epoch close.
        self.sky = None

    # -- output -------------------------------------------------------------------------------

    def pending(self):
        """How many fixes are queued for pop()."""
        return len(self.queue)

    def pop(self):
        """The oldest queued Fix, or None."""
        q = self.queue
        return q.pop(0) if q else None

    def flush(self):
        """Close the open epoch now (the receiver went quiet). Returns the queue length."""
        if self.ep.open:
            self._close()
        return len(self.queue)

    def raise_floor(self, t):
        """Raise the date floor to the day of `t` (seconds since 2000: a stored fix's time).
        Rollover correction and the date window start there; the floor never goes down."""
        days = t // _DAY_S
        if days > self.dates.floor:
            self.dates.floor = days

    # -- framing ------------------------------------------------------------------------------

    def feed(self, data, n=-1):
        """Take a chunk of UART bytes (bytes or bytearray; only the first n if n >= 0, so a
        reused UART read buffer needs no slicing). Returns how many fixes are queued for pop().
        Raises nothing for bad bytes (skipped and counted in self.counts); TypeError for data
        that is not bytes-like."""
        if n < 0 or n > len(data):
            n = len(data)
        # The framer's steps are inline, not methods: on MicroPython each function of a loaded
        # .mpy costs about 90 B of heap (the corpus must stream in 32 KB).
        i = 0
        while i < n:
            if self.llen:  # a held sentence continues: up to its line end or the next '$'
                e = data.find(b"\n", i, n)
                stop = n if e < 0 else e
                d2 = data.find(b"$", i, stop)
                end = d2 if d2 >= 0 else stop
                self._hold(data, i, end)
                if end == n:
                    break
                ln = self.llen
                self.llen = 0
                if self.lover:
                    self.lover = False
                    _bump(self.counts, "too_long")
                else:
                    self._line(self.line, 0, ln, d2 >= 0)
                i = end if d2 >= 0 else e + 1
                continue
            if self.bol == 2:  # skip to the end of the '#' line, '$' and all
                e = data.find(b"\n", i, n)
                if e < 0:
                    break
                self.bol = 1
                i = e + 1
                continue
            d = data.find(b"$", i, n)
            if d != i:
                # Count the bytes outside sentences up to that '$' (line ends aside), or up to
                # a '#' that starts a line: then skip the '#' line (the branch above).
                b = n if d < 0 else d
                k = 0
                bol = self.bol if i == 0 else (1 if data[i - 1] == 10 else 0)  # at a line start?
                while i < b:
                    c = data[i]
                    i += 1
                    if c == 10:
                        bol = 1
                    elif c != 13:
                        if bol and c == 35:
                            bol = 2
                            _bump(self.counts, "hash_lines")
                            break
                        bol = 0
                        k += 1
                self.bol = bol
                if k:
                    self.counts["junk_bytes"] = self.counts.get("junk_bytes", 0) + k
                continue
            e = data.find(b"\n", d + 1, n)
            stop = n if e < 0 else e
            d2 = data.find(b"$", d + 1, stop)
            if d2 >= 0:  # a new sentence starts before this one ended
                self._line(data, d, d2, True)
                i = d2
            elif e >= 0:
                self._line(data, d, e, False)
                i = e + 1
            else:  # the sentence continues in the next chunk
                self._hold(data, d, n)
                i = n
        if n and self.bol != 2:
            self.bol = 1 if data[n - 1] == 10 else 0
        return len(self.queue)

    def _hold(self, data, a, b):
        k = b - a
        if k <= 0:
            return
        ln = self.llen
        if self.lover or ln + k > LINE_MAX + 2:
            self.lover = True  # keep counting nothing: the sentence is dropped at its end
            self.llen = LINE_MAX + 2
            return
        self.line[ln : ln + k] = memoryview(data)[a:b]
        self.llen = ln + k

    # -- one sentence -------------------------------------------------------------------------

    def _line(self, buf, s, e, cut):
        """Check and decode the sentence buf[s:e] ('$' at s; e excludes the line end)."""
        counts = self.counts
        while e > s and (buf[e - 1] == 13 or buf[e - 1] == 32):
            e -= 1
        if cut and e - s == 1:  # "$$": a doubled start, not a sentence cut short
            _bump(counts, "double_dollar")
            return
        if e - s > LINE_MAX:
            _bump(counts, "too_long")
            return
        st = buf.find(b"*", s, e)
        # XOR checksum over what lies between '$' and '*', refusing anything not printable.
        end = e if st < 0 else st
        x = xor_printable(buf, s + 1, end)
        if x < 0:
            _bump(counts, "nonprintable")
            return
        if st < 0:
            if cut:  # cut short by the next '$': a sentence that never finished
                _bump(counts, "truncated")
                return
            if self.checksum == CS_REQUIRE:
                _bump(counts, "no_checksum")
                return
            _bump(counts, "no_checksum_used")
        else:
            if e - st != 3:
                _bump(counts, "truncated" if e - st < 3 else "malformed")
                return
            cs = hexbyte(buf, st + 1)
            if cs < 0:
                _bump(counts, "malformed")
                return
            if cs != x:
                _bump(counts, "bad_checksum")
                return
            if self.checksum == CS_AUTO:
                self.checksum = CS_REQUIRE
        # The address: a GNSS talker and a formatter decoded here. (One method with the checks
        # above: each function costs heap on MicroPython.)
        st = end
        if st - s < 6:
            _bump(counts, "malformed")
            return
        if buf[s + 1] == 80:  # 'P': proprietary
            _bump(counts, "proprietary")
            return
        if st - s > 6 and buf[s + 6] != 44:  # the address is not 5 characters
            _bump(counts, "unknown_sentence")
            return
        t = buf[s + 1]
        c = buf[s + 2]
        if t == 71 and 65 <= c <= 90:  # 'G' and a letter
            sysid = _G_TALKERS[c - 65] - 48
        elif t == 66 and c == 68:  # BD
            sysid = 4
        elif t == 81 and c == 90:  # QZ
            sysid = 5
        else:
            sysid = -1
        if sysid < 0:
            _bump(counts, "other_talker")
            return
        kind = (buf[s + 3] << 16) | (buf[s + 4] << 8) | buf[s + 5]
        # The highest field the formatter's decoder reads; most frequent first (GSV, GSA, GGA,
        # RMC in the corpus). Inline, not a function: each function costs heap on MicroPython.
        if kind == _GSV:  # the header; the satellite blocks and signal ID for the integrity hook
            need = 3 if self.sky is None else 20
        elif kind == _GSA:
            need = _MAXF
        elif kind == _GGA or kind == _GNS or kind == _VTG:
            need = 9
        elif kind == _RMC:
            need = 12
        elif kind == _GLL or kind == _GST:
            need = 7
        elif kind == _ZDA:
            need = 4
        else:
            _bump(counts, "unknown_sentence")
            return
        # Field table: fp[k] is the offset of the comma before field k+1, fp[nf] that of the
        # checksum '*' (offsets fit a byte: lines are capped). Only the fields the decoder reads
        # are located.
        nf = buf.count(b",", s, st)
        if nf > _MAXF:
            _bump(counts, "malformed")
            return
        fp = self.commas
        m = nf if nf <= need else need + 1
        i = s
        for k in range(m):
            i = buf.find(b",", i + 1, st)
            fp[k] = i - s
        if m == nf:
            fp[nf] = st - s
        self.nfield = nf
        self.start = s
        self.s_type = kind
        self.s_sys = sysid
        self.s_tod = EMPTY
        self.s_days = EMPTY
        self.s_lat = EMPTY
        self.s_lon = EMPTY
        if kind == _GSV:
            ok = self._gsv(buf, sysid, s, st)
        elif kind == _GSA:
            ok = self._gsa(buf, sysid, s, st)
        elif kind == _GGA:
            ok = self._gga(buf, sysid, s, st)
        elif kind == _RMC:
            ok = self._rmc(buf, sysid, s, st)
        elif kind == _VTG:
            ok = self._vtg(buf, sysid, s, st)
        elif kind == _GLL:
            ok = self._gll(buf, sysid, s, st)
        elif kind == _GNS:
            ok = self._gns(buf, sysid, s, st)
        elif kind == _GST:
            ok = self._gst(buf, sysid, s, st)
        else:
            ok = self._zda(buf, sysid, s, st)
        if ok:
            self.sentences += 1
        else:
            self.s_type = 0
            _bump(counts, "malformed")

    # Field k (1-based) of the current sentence lies in buf[s0+fp[k-1]+1 : s0+fp[k]].

    def _f(self, buf, k, nd):
        if k > self.nfield:
            return EMPTY
        s = self.start
        return dec(buf, s + self.commas[k - 1] + 1, s + self.commas[k], nd)

    def _c(self, buf, k):
        if k > self.nfield:
            return 0
        s = self.start
        return char(buf, s + self.commas[k - 1] + 1, s + self.commas[k])

    def _time(self, buf, k):
        """Parse the time field k and open the epoch it belongs to. False if malformed."""
        if k > self.nfield:
            t = EMPTY
        else:
            s = self.start
            t = tod_ms(buf, s + self.commas[k - 1] + 1, s + self.commas[k])
            if t == BAD:
                return False
        self.s_tod = t
        ep = self.ep
        if not ep.open or ep.tod != t:
            if ep.open and ep.tod == _PENDING:  # time-less sentences began this epoch
                ep.tod = t
            else:
                if ep.open:
                    self._close()
                ep.reset(t)
        return True

    def _join(self, says):
        """Place a time-less sentence (GSA, VTG) that says fix (1), no fix (-1) or nothing (0):
        in the open epoch, unless it contradicts that epoch's status (the receiver has begun
        its next cycle, as Quectel's no-fix cycles do with VTG and GSA) or none is open; then
        in a new epoch whose time the next timed sentence gives (_PENDING). The callers skip
        the call when the epoch is open and agrees (ep.ok * says >= 0): the hot path."""
        ep = self.ep
        if ep.open:
            # A "fix" after a timed no-fix statement joins: Garmin's demo mode sends GSA 3D
            # with RMC "V" for one instant. After an untimed no-fix epoch it cannot belong.
            if says > 0 and ep.tod >= 0:
                return
            self._close()
        ep.reset(_PENDING)

    def _pos(self, buf, k):
        """Latitude at field k (hemisphere k+1), longitude at k+2 (k+3). False if malformed."""
        if k + 3 > self.nfield:
            return k > self.nfield  # a short sentence without position fields
        s = self.start
        fp = self.commas
        lat = latlon(buf, s + fp[k - 1] + 1, s + fp[k], self._c(buf, k + 1), 90)
        lon = latlon(buf, s + fp[k + 1] + 1, s + fp[k + 2], self._c(buf, k + 3), 180)
        if lat == BAD or lon == BAD:
            return False
        self.s_lat = lat
        self.s_lon = lon
        return True

    def _gga(self, buf, sysid, s, st):
        # time, lat, N, lon, E, quality, sats, hdop, alt, M, separation, M, age, station
        if self.nfield < 9 or not self._time(buf, 1) or not self._pos(buf, 2):
            return False
        q = self._f(buf, 6, 0)
        if q == BAD or q > 9 or not self._solution(buf, 7, _SRC_GGA):
            return False
        ep = self.ep
        if q != EMPTY:
            ep.quality = q
            ep.status(q > 0)
        return True

    def _solution(self, buf, k, rank):
        """GGA and GNS: the position, and satellites used, HDOP and altitude at fields k, k+1,
        k+2. The first GGA (else GNS) of an epoch sets them all, over what RMC, GLL or GSA
        said; any later one only fills gaps. False if malformed."""
        sats = self._f(buf, k, 0)
        hdop = self._f(buf, k + 1, 2)
        alt = self._f(buf, k + 2, 1)
        if sats == BAD or hdop == BAD or alt == BAD:
            return False
        ep = self.ep
        take = ep.position(self.s_lat, self.s_lon, rank)
        if sats >= 0 and (take or ep.sats == EMPTY):
            ep.sats = sats
        if hdop >= 0 and (take or ep.hdop_c == EMPTY):
            ep.hdop_c = hdop
        if alt != EMPTY and (take or ep.alt_dm == EMPTY):
            ep.alt_dm = alt
        return True

    def _rmc(self, buf, sysid, s, st):
        # time, status, lat, N, lon, E, speed kn, course, ddmmyy, magvar, E/W, [mode, [nav status]]
        if self.nfield < 9 or not self._time(buf, 1) or not self._pos(buf, 3):
            return False
        status = self._c(buf, 2)
        kn = self._f(buf, 7, 2)
        cog = self._f(buf, 8, 2)
        mode = self._c(buf, 12)
        # ddmmyy as days since 2000-01-01 (yy 80-99 = 19yy)
        a = s + self.commas[8] + 1
        b = s + self.commas[9]
        days = EMPTY
        if a < b:
            days = BAD
            if b - a == 6:
                d = dec(buf, a, a + 2, 0)
                m = dec(buf, a + 2, a + 4, 0)
                y = dec(buf, a + 4, b, 0)
                if d >= 0 and m >= 0 and y >= 0:
                    y += 1900 if y >= 80 else 2000
                    if valid_date(y, m, d):
                        days = days_from_civil(y, m, d)
        if kn == BAD or cog == BAD or days == BAD or status < 0 or mode < 0:
            return False
        ep = self.ep
        self.s_days = days
        if status == 65 or status == 86:  # 'A' / 'V'
            ep.status(status == 65)
        self._mode(mode)
        ep.position(self.s_lat, self.s_lon, _SRC_RMC)
        if days != EMPTY:
            ep.days = days
        if kn >= 0:
            ep.speed_cms = (kn * 5144 + 5000) // 10000
        if cog >= 0:
            ep.course_cd = cog % 36000
        return True

    def _mode(self, c):
        # An NMEA 2.3+ mode letter: N says no fix; E/M/S are kept as quality unless GGA says more.
        mq = mode_quality(c) if c else -1
        if mq < 0:
            return
        ep = self.ep
        ep.status(mq > 0)
        if ep.quality < 0 or mq >= 6:
            ep.quality = mq

    def _gll(self, buf, sysid, s, st):
        # lat, N, lon, E, time, status, [mode]
        if self.nfield < 4 or not self._pos(buf, 1):
            return False
        if self.nfield < 5:  # NMEA 1.x GLL has no time: it cannot be placed in an epoch
            return True
        if not self._time(buf, 5):
            return False
        status = self._c(buf, 6)
        mode = self._c(buf, 7)
        if status < 0 or mode < 0:
            return False
        ep = self.ep
        if status == 65 or status == 86:
            ep.status(status == 65)
        self._mode(mode)
        ep.position(self.s_lat, self.s_lon, _SRC_RMC)
        return True

    def _gns(self, buf, sysid, s, st):
        # time, lat, N, lon, E, mode letters (one per constellation), sats, hdop, alt, sep, ...
        if self.nfield < 9 or not self._time(buf, 1) or not self._pos(buf, 2):
            return False
        ep = self.ep
        took = ep.src < _SRC_GNS
        if not self._solution(buf, 7, _SRC_GNS):
            return False
        q = -1
        # the best of the per-constellation mode letters
        for i in range(s + self.commas[5] + 1, s + self.commas[6]):
            mq = mode_quality(buf[i])
            if mq > q and (q < 1 or mq < 6):  # prefer a real fix over estimated/manual/sim
                q = mq
        if q >= 0:
            # GNS's quality goes with its position, but never hides an RMC "estimated".
            if ep.quality < 0 or (took and ep.quality < 6):
                ep.quality = q
            ep.status(q > 0)
        return True

    def _gsa(self, buf, sysid, s, st):
        # mode, fix type, up to 12 (some receivers: more) PRNs, PDOP, HDOP, VDOP, [system id]
        nf = self.nfield
        if nf < 6:
            return False
        fp = self.commas
        ftype = self._f(buf, 2, 0)
        last = nf
        # NMEA 4.10 adds a one-hex-digit system ID after VDOP (Quectel sends it empty).
        w = fp[nf] - fp[nf - 1] - 1
        sid = -1
        if w <= 1 and nf >= 18:
            sid = hexdigit(buf, s + fp[nf - 1] + 1, s + fp[nf])
            last = nf - 1
        hdop = self._f(buf, last - 1, 2)
        if ftype == BAD or hdop == BAD or sid == BAD:
            return False
        used = 0
        first = 0
        for k in range(3, last - 2):  # count the filled PRN slots; only GN needs a PRN's value
            if fp[k] > fp[k - 1] + 1:
                used += 1
                if not first:
                    first = k
        if sid > 0:
            slot = sid if sid < 7 else 0
        elif sysid:
            slot = sysid
        else:
            p = self._f(buf, first, 0) if first else 0
            if p == BAD:
                return False
            # A talker-less (GN) GSA: the first satellite's number says (NMEA conventions).
            if 1 <= p <= 32:
                slot = 1
            elif 33 <= p <= 64 or 120 <= p <= 158:
                slot = 7
            elif 65 <= p <= 96:
                slot = 2
            elif 193 <= p <= 200:
                slot = 5
            elif 201 <= p <= 237 or 401 <= p <= 437:
                slot = 4
            elif 301 <= p <= 336:
                slot = 3
            else:
                slot = 0
        ep = self.ep
        says = 1 if ftype >= 2 else (-1 if ftype == 1 else 0)
        if not ep.open or ep.ok * says < 0:
            self._join(says)
        ep.used[slot] = used if used < 255 else 255
        if ftype >= 1:
            ep.fixtype = ftype
        elif ep.fixtype < 0:
            ep.fixtype = 0
        if hdop >= 0 and (ep.src < _SRC_GNS or ep.hdop_c == EMPTY):
            ep.hdop_c = hdop  # GSA's HDOP only where no GGA or GNS gave one
        return True

    def _gsv(self, buf, sysid, s, st):
        # total msgs, msg number, sats in view, {PRN, elevation, azimuth, SNR} x 0..4, [signal]
        nf = self.nfield
        if nf < 3:
            return False
        total = self._f(buf, 1, 0)
        num = self._f(buf, 2, 0)
        view = self._f(buf, 3, 0)
        if total == BAD or num == BAD or view == BAD:
            return False
        sig = EMPTY
        if (nf - 3) % 4 == 1:  # NMEA 4.10: a signal ID (one hex digit) after the satellite blocks
            sig = hexdigit(buf, buf.rfind(b",", s, st) + 1, st)
            if sig == BAD:
                return False
        self.s_signal = sig
        if self.sky is not None:
            self.sky.gsv(self, buf)
        return True

    def _vtg(self, buf, sysid, s, st):
        # course T, 'T', course M, 'M', speed kn, 'N', speed km/h, 'K', [mode]; or NMEA 1.x
        # without the unit letters: course T, course M, speed kn, speed km/h.
        nf = self.nfield
        if nf >= 8:
            cog = self._f(buf, 1, 2)
            kn = self._f(buf, 5, 2)
            kmh = self._f(buf, 7, 2)
            mode = self._c(buf, 9)
        elif nf == 4:
            cog = self._f(buf, 1, 2)
            kn = self._f(buf, 3, 2)
            kmh = self._f(buf, 4, 2)
            mode = 0
        else:
            return False
        if cog == BAD or kn == BAD or kmh == BAD or mode < 0:
            return False
        mq = mode_quality(mode) if mode else -1
        ep = self.ep
        says = 0 if mq < 0 else (1 if mq > 0 else -1)
        if not ep.open or ep.ok * says < 0:
            self._join(says)
        if ep.speed_cms == EMPTY:
            if kn >= 0:
                ep.speed_cms = (kn * 5144 + 5000) // 10000
            elif kmh >= 0:
                ep.speed_cms = (kmh * 1000 + 18) // 36
        if ep.course_cd == EMPTY and cog >= 0:
            ep.course_cd = cog % 36000
        self._mode(mode)
        return True

    def _zda(self, buf, sysid, s, st):
        # time, day, month, year (4 digits), zone hours, zone minutes
        if self.nfield < 4 or not self._time(buf, 1):
            return False
        d = self._f(buf, 2, 0)
        m = self._f(buf, 3, 0)
        y = self._f(buf, 4, 0)
        if d == BAD or m == BAD or y == BAD:
            return False
        if d == EMPTY or m == EMPTY or y == EMPTY:
            return True
        if not valid_date(y, m, d):
            return False
        days = days_from_civil(y, m, d)
        self.s_days = days
        self.ep.days = days
        return True

    def _gst(self, buf, sysid, s, st):
        # time, RMS, major, minor, orientation, sigma lat (m), sigma lon (m), sigma alt (m)
        if self.nfield < 7 or not self._time(buf, 1):
            return False
        sla = self._f(buf, 6, 1)
        slo = self._f(buf, 7, 1)
        if sla == BAD or slo == BAD:
            return False
        if sla >= 0 and slo >= 0:
            self.ep.gst_acc = isqrt(sla * sla + slo * slo)
        return True

    # -- epochs -------------------------------------------------------------------------------

    def _close(self):
        f = close_epoch(self.ep, self.dates, self.uere_dm, self.counts)
        if self.sky is not None:
            self.sky.epoch(f)
        if f is None:
            return
        self.epochs += 1
        q = self.queue
        if len(q) >= QUEUE_MAX:
            q.pop(0)
            _bump(self.counts, "queue_overflow")
        q.append(f)
