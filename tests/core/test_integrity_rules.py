# The GNSS integrity rules (tagcore.gnss.integrity) on NMEA streams built here: what each
# detector says, and what it must not say. Both runtimes.
from nmeatest import cs
from tagcore.geo import isqrt
from tagcore.gnss import integrity as I
from tagcore.gnss.fixfilter import FixFilter
from tagcore.gnss.nmea import NmeaReader

# this module and the rules (K_MORE's episode bookkeeping) left the 64 KB heap no room for
# the Integrity instance's attribute table (592 B) once the module was loaded
MPY_HEAP = 73728

T0 = 825753600  # 2026-03-02T08:00:00Z, seconds since 2000
SKY = (44, 41, 38, 36, 33, 31, 29, 27)  # an open sky: C/N0 falls with elevation
UNIFORM = (45, 45, 44, 45, 46, 45, 45, 44)  # one transmitter behind every satellite


def gsv(cnos):
    out = b""
    n = (len(cnos) + 3) // 4
    for i in range(n):
        body = f"GPGSV,{n},{i + 1},{len(cnos):02d}"
        for k in range(4 * i, min(4 * i + 4, len(cnos))):
            c = cnos[k]
            snr = f"{c:02d}" if c else ""
            body += f",{k + 1:02d},{70 - 7 * k:02d},{40 * k:03d},{snr}"
        out += cs(body) + b"\r\n"
    return out


def epoch(t, cnos, lat_min=30.0, knots=0.0, lag=0):
    """One second of output: GGA and RMC (a fix when 4 or more are tracked), GSV."""
    s = (t - lag) % 86400
    hms = f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}.00"
    n = sum(1 for c in cnos if c)
    if n >= 4:
        lat = f"52{lat_min:08.5f}"
        gga = f"GPGGA,{hms},{lat},N,01322.20000,E,1,{n:02d},1.0,35.0,M,47.0,M,,"
        rmc = f"GPRMC,{hms},A,{lat},N,01322.20000,E,{knots:.1f},0.0,020326,,,A"
    else:
        gga = f"GPGGA,{hms},,,,,0,{n:02d},99.99,,,,,,"
        rmc = f"GPRMC,{hms},V,,,,,,,020326,,,N"
    return cs(gga) + b"\r\n" + cs(rmc) + b"\r\n" + gsv(cnos)


class Tag:
    """Reader, filter and the integrity checks, wired as the app wires them."""

    def __init__(self):
        self.r = NmeaReader()
        self.ff = FixFilter()
        self.g = I.Integrity()
        self.g.attach(self.r)
        self.events = []

    def second(self, now, data):
        g = self.g
        g.now = now
        self.r.feed(data)
        self.r.flush()
        while True:
            f = self.r.pop()
            if f is None:
                break
            if f.quality:
                g.fix(f, self.ff.check(f), self.ff.counts)
        while True:
            e = g.pop()
            if e is None:
                break
            self.events.append(e)

    def kinds(self):
        return [e[0] for e in self.events]


def evidence(e):
    # the queued event's kind, then its evidence (the ints tagcore.events.Integrity stores)
    return [e[0]] + list(e[2])  # noqa: RUF005 (no * in MicroPython)


def test_gsv_gives_a_compact_cn0_summary():
    tag = Tag()
    tag.second(T0, epoch(T0, (40, 35, 0, 30, 45)))
    g = tag.g
    assert (g.n, g.cn0_max, g.mean10) == (4, 45, 375)
    var100 = (4 * (40 * 40 + 35 * 35 + 30 * 30 + 45 * 45) - 150 * 150) * 100 // 16
    assert g.sd10 == isqrt(var100)
    assert g.cn0 == [0, 0, 0, 0, 0]  # ready for the next epoch


def test_an_honest_hour_says_nothing():
    tag = Tag()
    for k in range(3600):
        sky = tuple(c + (k * 7 + i * 3) % 5 - 2 for i, c in enumerate(SKY))
        if k % 600 < 20:  # a few satellites lost behind a building now and then
            sky = (sky[0], sky[1], sky[2], sky[3], sky[4], 0, 0, 0)
        tag.second(T0 + k, epoch(T0 + k, sky))
    assert tag.events == []


def test_foil_in_one_step_is_shielding_and_its_end_is_logged():
    tag = Tag()
    for k in range(30):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    for k in range(30, 30 + I.HOLD_S + 5):
        tag.second(T0 + k, epoch(T0 + k, (0,) * 8))
    assert tag.kinds() == [I.K_SHIELDING]
    ev = evidence(tag.events[0])
    assert tag.events[0][1] == T0 + 30  # the onset
    assert ev[0] == I.K_SHIELDING and ev[1] == I.HOLD_S and ev[3] == 1  # dark 50 s, 1 s gap
    assert ev[4] == 8 and ev[5] == 44  # the sky before: 8 tracked, 44 dB-Hz
    tag.second(T0 + 200, epoch(T0 + 200, SKY))
    assert tag.kinds() == [I.K_SHIELDING, I.K_END]


def test_a_collapse_watched_over_seconds_is_jamming():
    tag = Tag()
    for k in range(30):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    k = 30
    for drop in range(3, 30, 3):  # a van coming closer: every satellite loses the same
        sky = tuple(c - drop if c - drop >= 24 else 0 for c in SKY)
        tag.second(T0 + k, epoch(T0 + k, sky))
        k += 1
    for j in range(I.HOLD_S + 1):
        tag.second(T0 + k + j, epoch(T0 + k + j, (0,) * 8))
    assert tag.kinds() == [I.K_JAMMING]


def test_onset_while_the_receiver_was_off_is_signal_loss():
    tag = Tag()
    for k in range(5):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    for k in range(65, 65 + I.HOLD_S + 1):  # the next search, 60 s later: nothing
        tag.second(T0 + k, epoch(T0 + k, (0,) * 8))
    assert tag.kinds() == [I.K_SIGNAL_LOSS]


def _alerted_after_gap(gap, before=()):
    # a good sky, then `before` (one epoch), the receiver off for `gap` s, then nothing
    tag = Tag()
    for k in range(5):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    last = T0 + 4
    if before:
        last += 1
        tag.second(last, epoch(last, before))
    for k in range(200):
        tag.second(last + gap + k, epoch(last + gap + k, (0,) * 8))
        if tag.events:
            return tag, k
    return tag, None


def test_an_onset_after_a_long_gap_holds_only_what_is_left_of_2_minutes():
    # the model plan's still rate: a fix every 90 s, so the darkness began up to 90 s before
    # the search saw it; the hold is what is left of 115 s since the good sky, at least 30 s
    for gap, hold in ((60, I.HOLD_S), (65, I.HOLD_S), (80, 35), (88, 30), (120, 30)):
        tag, k = _alerted_after_gap(gap)
        assert tag.kinds() == [I.K_SIGNAL_LOSS], (gap, tag.events)
        assert k == hold, (gap, k)
        assert evidence(tag.events[0])[3] == gap and evidence(tag.events[0])[7] == hold
    # the last epoch before the gap was no good sky (4 weak satellites: a fix at the margin):
    # not a step across the gap, the full hold
    tag, k = _alerted_after_gap(80, (25, 25, 24, 24, 0, 0, 0, 0))
    assert k == I.HOLD_S, (k, tag.events)


def test_losing_the_sky_while_travelling_waits_for_the_long_hold():
    tag = Tag()
    for k in range(30):  # walking at 3 knots (1.5 m/s), then down into a metro
        tag.second(T0 + k, epoch(T0 + k, SKY, 30.0 + k * 0.0008, knots=3.0))
    for k in range(30, 30 + 1200):
        tag.second(T0 + k, epoch(T0 + k, (0,) * 8))
    assert tag.events == []


def test_a_short_dropout_is_no_attack():
    tag = Tag()
    for k in range(30):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    for k in range(30, 30 + I.HOLD_S - 10):  # a lift ride
        tag.second(T0 + k, epoch(T0 + k, (0,) * 8))
    for k in range(80, 200):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    assert tag.events == []


def test_uniform_cn0_is_spoofing():
    tag = Tag()
    for k in range(I.UNI_EPOCHS - 1):
        tag.second(T0 + k, epoch(T0 + k, UNIFORM))
    assert tag.events == [] and tag.g.watch  # a suspicion: the app raises the fix rate
    tag.second(T0 + 20, epoch(T0 + 20, UNIFORM))
    assert tag.kinds() == [I.K_SPOOFING]
    assert evidence(tag.events[0])[1] == 1  # why: the C/N0


def test_uniform_cn0_and_a_jump_is_spoofing_sooner():
    tag = Tag()
    for k in range(10):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    for k in range(10, 10 + I.UNI_JUMP):  # 5 km north at once, every satellite alike
        tag.second(T0 + k, epoch(T0 + k, UNIFORM, 33.0))
    assert tag.kinds() == [I.K_SPOOFING]
    assert evidence(tag.events[0])[6] >= 1  # the jumps the filter refused


def test_a_clock_that_disagrees_is_spoofing():
    tag = Tag()
    for k in range(10):
        tag.second(T0 + k, epoch(T0 + k, SKY))
    for k in range(10, 10 + I.CLOCK_FIXES):  # a replay, 10 minutes old
        tag.second(T0 + k, epoch(T0 + k, SKY, lag=600 - k))
    assert tag.kinds() == [I.K_SPOOFING]
    assert evidence(tag.events[0])[1] == 2  # why: the clock


def test_the_receivers_own_flags():
    g = I.Integrity()
    g.rx((1, 3, -1, 210, 900))  # MON-RF: critical, jamInd 210
    assert g.pop() is None  # one report is not enough
    g.rx((1, 3, -1, 220, 850))
    e = g.pop()
    assert e[0] == I.K_RX_JAMMING
    g.rx((2, -1, 2, -1, -1))  # NAV-STATUS: spoofing indicated
    g.rx((2, -1, 3, -1, -1))
    assert g.pop()[0] == I.K_RX_SPOOFING
    g.rx((3, 1, 1, -1, -1))  # SEC-SIG: all clear
    assert g.pop() is None


def test_a_car_seen_only_at_red_lights_is_travelling():
    # Fixes a minute apart, each at a red light (speed 0), 400 m on each time; then a tunnel
    # (ten minutes: a long one, or a jam inside it). Travel: no alert before the long hold.
    tag = Tag()
    for j in range(6):
        t = T0 + 60 * j
        tag.second(t, epoch(t, SKY, 30.0 + j * 0.216))  # 0.216 minutes of latitude: 400 m
    for k in range(300, 900):
        tag.second(T0 + k, epoch(T0 + k, (0,) * 8))
    assert tag.events == []
