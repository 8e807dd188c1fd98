# The tag's proximity check against the victim's beacon (Bluetooth) and position (GNSS).
#
# Sans-I/O: scan results, fixes and victim positions come in with `now` (UTC seconds since
# 2000-01-01); decisions go out as events (to the store as EV_PROXIMITY, via encode_event) and
# as the next scan to run. Nothing here reaches the wearer: the tag never signals that the
# victim is near.
#
# Bluetooth signal strength is a poor ruler (the body alone costs 10-20 dB), so a sighting is
# presence plus a coarse tier, never metres:
#   ABSENT --authenticated sighting--> NEARBY (pre-alert: scan and fix faster)
#   NEARBY --median RSSI over the window >= near threshold for dwell_in_s--> NEAR (alert)
#   NEAR --median below threshold - hysteresis for dwell_out_s, or unseen absent_s--> exit
#   NEARBY --unseen absent_s--> ABSENT
# Where both positions are known, the GNSS distance is the primary rule (a moving exclusion
# zone with a pre-alert ring). A Bluetooth alert says in its flags whether GNSS corroborated,
# contradicted (a relay can fake presence) or could not check it.
from array import array
from collections import namedtuple

from tagcore.compat import const
from tagcore.geo import dist_dm
from tagcore.proximity.advdata import find_id
from tagcore.proximity.idtable import MAX_BEACONS
from tagcore.store.record import get_varint, put_varint, unzz, zz

# Track states (Bluetooth) and GNSS states.
ABSENT = const(0)
NEARBY = const(1)
NEAR = const(2)
G_UNKNOWN = const(0)
G_OUT = const(1)
G_PRE = const(2)
G_IN = const(3)

# Event kinds.
K_NEARBY = const(1)  # first authenticated sighting: pre-alert
K_NEAR = const(2)  # close for long enough: alert
K_NEAR_EXIT = const(3)  # left "near" (weaker median for dwell_out_s, or unseen)
K_GONE = const(4)  # unseen for absent_s
K_GNSS_PRE = const(5)  # inside the pre-alert ring around the victim's position
K_GNSS_IN = const(6)  # inside the exclusion zone: alert
K_GNSS_EXIT = const(7)  # out of the exclusion zone (with hysteresis)
K_GNSS_OUT = const(8)  # out of the pre-alert ring (with hysteresis)
K_CORROBORATED = const(9)  # a Bluetooth-only alert later checked against GNSS: agrees
K_CONTRADICTED = const(10)  # ... disagrees (possible relay or replay)
# The scanner lost beacon frames (its ring was full: a crowd of opentag-format advertisers, or
# a flood): the tag was partly deaf. beacon = ANY_BEACON, rssi = reports lost since the last
# one; at most one per flood_s.
K_FLOODED = const(11)
ANY_BEACON = const(255)

# Event flags.
F_BLE = const(1)  # decided on Bluetooth sightings
F_GNSS = const(2)  # decided on GNSS distance
F_BLE_ONLY = const(4)  # no fresh GNSS pair to check it against
F_CORROBORATED = const(8)  # GNSS distance agrees with Bluetooth presence
F_CONTRADICTED = const(16)  # GNSS distance says the two are far apart
# Identifiers further than skew_tol from the tag's clock: the beacon's clock slipped, or an
# older capture is replayed; Bluetooth cannot tell which, so such an alert is low confidence.
F_SKEWED = const(32)
# Low confidence: decided where the rule cannot meet its targets (F_SKEWED, a vehicle, ...):
# docs/proximity.md "Known limits". Never silently a "near".
F_LOW_CONF = const(64)
F_VEHICLE = const(128)  # the wearer moved at road speed: in a vehicle RSSI barely follows distance

# One decision: rssi is the filtered RSSI at the decision (0 when none), dist_dm the GNSS
# distance (-1 unknown), times / rssis the evidence (authenticated sightings, oldest first).
Event = namedtuple("Event", ("t", "kind", "beacon", "flags", "rssi", "dist_dm", "times", "rssis"))

EVENT_VERSION = const(1)
# Sightings kept per beacon: the filter's window (window_s = 45 s) at two a second, the
# beacon's advertising rate, plus a margin. An event carries the newest MAX_EVIDENCE of them.
MAX_SAMPLES = const(96)
MAX_EVIDENCE = const(32)
MAX_EVENTS = const(16)  # events waiting for the caller; beyond, counted and dropped


def lg100(x):
    """floor(100 * log10(x)) for an integer x >= 1, exactly (big integers, at set-up only)."""
    xp = x**100
    k = 0
    step = 256
    while step:
        if 10 ** (k + step) <= xp:
            k += step
        step >>= 1
    return k


class Profile:
    """Settings of the proximity check; every field can be given as a keyword."""

    def __init__(self, **kw):
        # Beacon calibration: RSSI at 1 m (dBm) and the path-loss exponent x 10.
        self.tx1m = -50  # ESP32 at +9 dBm (the beacon's default); about -59 at 0 dBm
        self.n10 = 30
        self.near_m = 10  # the "near" tier: the model's RSSI at this distance...
        self.shadow_db = 0  # ...minus this much of the body loss (10-20 dB) it must survive
        # ...minus this for the tag's mounting: 0 at the belt; about 10 at the ankle, where
        # the ground's reflection cancels the direct ray beyond 3 m (two-ray breakpoint
        # 4 h_t h_r / lambda for 0.1 m and 1 m at 2.4 GHz: 20 log10(10 / 3.2) dB at 10 m).
        self.mount_db = 0
        self.hyst_db = 6  # leave "near" only when the median is this much below the threshold
        self.window_s = 45  # sightings older than this leave the filter
        # The filter: this percentile of the window's RSSIs (50: the median). The body only
        # ever takes signal away, so a higher one follows the unshadowed moments.
        self.pct = 67
        self.min_samples = 6
        self.decide_samples = 12  # "near" is decided on at least this many sightings
        self.dwell_in_s = 8
        # A "near" is confident only with the filtered RSSI at least sure_db above the
        # threshold; a presence at most long_db below the threshold for long_s also raises
        # "near", flagged low confidence (docs/proximity.md: the field model's curves).
        self.sure_db = 10
        self.long_db = 6
        self.long_s = 40
        # The held way in (flagged low confidence; hold_db < 0: off, the default), decided once
        # per scan: a presence of hold_s whose last hold_s of sightings (at least hold_n) have
        # their pct-th percentile at most hold_db below the threshold. 12 dB raises most heard
        # seated / bag encounters, at some 13 more flagged alerts a day from passes
        # (docs/proximity.md: the curve); an agency's choice, not a default.
        self.hold_db = -1
        self.hold_s = 60
        self.hold_n = 5  # three slow scans' worth: it decides on the slow schedule too
        self.dwell_out_s = 60
        self.absent_s = 120
        # Identifiers accepted within this many intervals of the tag's clock (or of the skew
        # learned from the beacon) as on time: a replay of a capture up to this old is accepted.
        self.skew_tol = 2
        # Beyond that, a beacon whose clock slipped is still found, flagged F_SKEWED: within
        # search_skew intervals more at first contact (a power cut, a battery swap), plus what
        # a clock drifting drift_ppm can have drifted since the beacon was last seen on its
        # learned skew; never beyond max_skew (the table's margins bound it too).
        self.search_skew = 4
        self.drift_ppm = 60000  # 6 %: above the 5 % a day of an uncalibrated RC clock
        self.max_skew = 16
        # Scans: slow while nothing is around, fast (continuous) after a sighting or near the
        # victim's last known position. A slow window is sized by the beacon's advertising:
        # slow_adverts intervals of adv_ms plus the 0-10 ms advDelay the controller adds to
        # each (Bluetooth Core 5.3 Vol 6 Part B 4.4.2.2.1), so it always holds that many of
        # its events; the period then makes the duty slow_duty_pm per mille: 520 ms every 13 s,
        # 4 % (one window of 1.5 s every 20 s was 7.5 %, and heard a beacon no sooner: short
        # spread windows hear it sooner than long rare ones of the same duty). The battery
        # budget wants 2 % (slow_duty_pm 20), which costs detection delay one for one: on the
        # CURRENT model p90 83 s against the 60 s the tests hold (docs/proximity.md). Either can
        # still be given in ms / s (> 0), as before.
        self.adv_ms = 500
        self.slow_adverts = 1
        self.slow_duty_pm = 40
        self.slow_scan_ms = 0
        self.slow_period_s = 0
        self.fast_period_s = 10
        self.fast_scan_ms = 10000
        # GNSS rule (metres): exclusion radius, pre-alert ring, hysteresis, fix/position age.
        self.excl_m = 500
        self.pre_m = 1000
        self.gnss_hyst_m = 100
        self.max_age_s = 300
        # Scans stay fast while the wearer is within pre_m of a victim position up to this old
        # (the victim's last known area), though it no longer decides alerts.
        self.area_age_s = 3600
        # A Bluetooth sighting is corroborated if GNSS puts the two within this distance (plus
        # both accuracies) and contradicted beyond contradict_m (plus accuracies).
        self.corroborate_m = 150
        self.contradict_m = 1000
        self.flood_s = 600  # at most one K_FLOODED event this often
        # A "near" decided while the wearer's fresh fix (up to vehicle_age_s old) says he moves
        # at road speed is flagged F_VEHICLE | F_LOW_CONF: in a bus or tram RSSI barely changes
        # with distance (Leith & Farrell 2020: about 0.36 dB/m, +-10 dB as people move).
        self.vehicle_cms = 500  # 18 km/h: above a run, below any bus in traffic
        self.vehicle_age_s = 30
        # Energy: a beacon heard only faintly (its filtered RSSI more than faint_db below the
        # threshold) after its first probe_s is scanned for on the slow schedule, not back to back.
        self.faint_db = 8
        self.probe_s = 60
        self.reprobe_s = 600  # ...and one that left faint and is back within this, at once
        self.sparse_s = 60  # with sightings too sparse for the window, the level is of these s
        # A beacon judged faint (quiet) whose level rises into the faint band again makes the
        # scans fast only within re-check windows of recheck_s, the first backoff_s after it
        # was judged, each further one after twice the wait, up to backoff_max_s; a window
        # ends early when a dense window judges it faint again. One held at a steady faint
        # level kept the tag scanning a third of the time; one hardly heard never filled a
        # dense window and kept it scanning until its level fell. Never held back: a level at
        # the threshold, a dense one where the long way decides (she comes close), a new
        # presence (not quiet).
        # The windows apply only once the beacon has been around (returns within reprobe_s
        # included) for hold_back_after_s: an encounter of 1-5 min keeps every re-check (the
        # long way decides seated / bag encounters on them: 5 points of detection).
        self.hold_back_after_s = 300
        self.recheck_s = 30
        self.backoff_s = 120
        self.backoff_max_s = 960
        for k in kw:
            if not hasattr(self, k):
                raise ValueError(k)
            setattr(self, k, kw[k])
        if self.slow_scan_ms <= 0:
            self.slow_scan_ms = self.slow_adverts * (self.adv_ms + 10) + 10
        if self.slow_period_s <= 0:
            self.slow_period_s = (self.slow_scan_ms + self.slow_duty_pm - 1) // self.slow_duty_pm
        self.near_dbm = (
            self.tx1m - (self.n10 * lg100(self.near_m) + 50) // 100 - self.shadow_db - self.mount_db
        )


class _Track:
    # One beacon's Bluetooth state.
    def __init__(self):
        self.state = ABSENT
        # Typed arrays: 96 sightings cost 4 + 1 + 1 bytes each, not three 8-byte list slots.
        self.seen_t = array("i", bytes(4 * MAX_SAMPLES))  # sighting times (ring)
        self.seen_rssi = array("b", bytes(MAX_SAMPLES))  # sighting RSSIs (-127 .. 20 dBm)
        self.tmp = array("b", bytes(MAX_SAMPLES))  # scratch: the window's RSSIs, sorted
        self.head = 0  # next slot
        self.n = 0
        self.last_seen = 0
        self.since = 0  # when the current candidate condition (near / below) started; -1: none
        self.cand = False
        self.long_cand = False  # the long, weaker way into "near" (long_db, long_s)
        self.long_since = 0
        self.held = False  # "near" came the held way (hold_db): it is left below that level
        self.quiet = False  # back soon after leaving faint: no probe (reprobe_s)
        self.recheck_t = 0  # a quiet beacon's next re-check window opens then (recheck_s)
        self.backoff = 0  # ... and the wait after it (0: backoff_s)
        self.around = 0  # since when it has been around (returns within reprobe_s included)
        self.skew = 0  # learned beacon clock offset, in intervals
        self.skew_t = 0  # when the skew was last moved (it moves no faster than drift_ppm)
        self.anchor_t = 0  # last sighting within skew_tol of the learned skew
        self.last_k = -1  # newest interval accepted: a real beacon's clock only goes forward
        self.skewed = False
        self.ble_only_alert = False  # an alert waiting for a GNSS check
        self.first = 0  # when this presence began (K_NEARBY)
        self.level = -127  # the latest filtered RSSI (or the latest sighting's, before one)

    def add(self, t, rssi):
        h = self.head
        self.seen_t[h] = t
        self.seen_rssi[h] = rssi
        self.head = (h + 1) % MAX_SAMPLES
        if self.n < MAX_SAMPLES:
            self.n += 1

    def recent(self, since):
        # (times, rssis) of the newest MAX_EVIDENCE sightings at or after `since`, oldest first.
        c = 0
        for j in range(self.n):
            if self.seen_t[(self.head - self.n + j) % MAX_SAMPLES] >= since:
                c += 1
        skip = c - MAX_EVIDENCE
        ts = []
        rs = []
        for j in range(self.n):
            k = (self.head - self.n + j) % MAX_SAMPLES
            if self.seen_t[k] >= since:
                if skip > 0:
                    skip -= 1
                    continue
                ts.append(self.seen_t[k])
                rs.append(self.seen_rssi[k])
        return ts, rs

    def window_pct(self, since, pct):
        # (count, pct-th percentile) of the RSSIs of sightings at or after `since`, without
        # allocating: an insertion sort into the scratch list (at most MAX_SAMPLES).
        a = self.tmp
        m = 0
        for j in range(self.n):
            k = (self.head - self.n + j) % MAX_SAMPLES
            if self.seen_t[k] >= since:
                v = self.seen_rssi[k]
                i = m
                while i > 0 and a[i - 1] > v:
                    a[i] = a[i - 1]
                    i -= 1
                a[i] = v
                m += 1
        return m, (a[(m - 1) * pct // 100] if m else 0)


class Proximity:
    def __init__(self, table, profile=None):
        self.table = table
        self.p = profile if profile is not None else Profile()
        self.tracks = {}  # beacon -> _Track, created on first sighting
        self.victim: list = [None] * MAX_BEACONS  # (t, lat, lon, acc_dm) per beacon
        self.gstate = [G_UNKNOWN] * MAX_BEACONS
        self.gseen = [0] * MAX_BEACONS  # when a fresh pair last decided gstate
        self.fix = None  # (t, lat, lon, acc_dm) of the wearer
        self.events = []
        self.counts = {}
        self.last_end = -(1 << 30)  # when the last scan ended (on_scan_end)
        self.now = 0  # the latest time any input or query carried
        self.lost = 0  # scan reports lost by the device's scanner, not yet in an event
        self.speed = (0, 0)  # (t, cm/s) of the wearer's last fix
        self.lost_t = -(1 << 30)  # when the last K_FLOODED was emitted

    # -- inputs --

    def _count(self, k):
        self.counts[k] = self.counts.get(k, 0) + 1

    def on_scan(self, now, addr, rssi, adv):
        """One scan result. Returns the beacon number if it was an authenticated sighting of a
        beacon in the table, else -1 (the reason is counted). `addr` is not used: the beacon's
        address rotates, and nothing is keyed on it."""
        try:
            if not isinstance(rssi, int) or rssi < -127 or rssi > 20:
                self._count("bad_rssi")
                return -1
            i = find_id(adv, self.counts)
            if i < 0:
                return -1
            hit = self.table.lookup(adv, i)
        except (TypeError, ValueError, IndexError):  # adv of a type that cannot be indexed
            self._count("adv_type")
            return -1
        if hit is None:
            self._count("unknown_id")
            return -1
        beacon, k = hit
        tr = self.tracks.get(beacon)
        if tr is None:
            tr = _Track()
            self.tracks[beacon] = tr
        ivs = self.table.interval_s[beacon]
        if tr.last_k < 0:
            tr.skew_t = tr.anchor_t = now
        off = k - now // ivs
        if not self._accept(tr, now, k, off, ivs):
            # A replayed old identifier, or a beacon whose clock ran further than a clock can
            # drift. Counted, raises nothing.
            self._count("outside_window")
            return -1
        self._count("sightings")
        tr.add(now, rssi)
        if tr.state == ABSENT:
            p = self.p
            tr.quiet = now - tr.last_seen <= p.reprobe_s and tr.level < p.near_dbm - p.faint_db
            if not tr.quiet:
                tr.backoff = tr.recheck_t = 0
                tr.around = now
            tr.state = NEARBY
            tr.first = now
            tr.cand = False
            self._emit(now, K_NEARBY, beacon, F_BLE, rssi, [now], [rssi])
        tr.last_seen = now
        self._evaluate(now, beacon, tr)
        return beacon

    def _accept(self, tr, now, k, off, ivs):
        # Whether identifier k (off intervals from the tag's clock) is the beacon's; learns
        # the skew. Within skew_tol of the tag's clock: on time, as the docs promise. Within
        # skew_tol of the learned skew, or within the drift envelope around it: a beacon whose
        # clock slipped (F_SKEWED). The skew only learns from identifiers no older than the
        # newest one accepted (a replay played newest-first cannot drag it) and no faster than
        # drift_ppm since it last moved (nor can one played at the real pace, for hours).
        p = self.p
        tol = p.skew_tol
        d = off - tr.skew
        if -tol <= d <= tol:
            tr.anchor_t = now
        elif off < -tol or off > tol:
            env = p.search_skew + (now - tr.anchor_t) * p.drift_ppm // (1000000 * ivs)
            if env > p.max_skew:
                env = p.max_skew
            if d < -tol - env or d > tol + env or off < -p.max_skew or off > p.max_skew:
                return False
        if k >= tr.last_k:
            tr.last_k = k
            if d != 0:
                step = (now - tr.skew_t) * p.drift_ppm // (1000000 * ivs)
                if step > 0:
                    sk = tr.skew + (d if -step <= d <= step else (step if d > 0 else -step))
                    tr.skew = -p.max_skew if sk < -p.max_skew else min(sk, p.max_skew)
                    tr.skew_t = now
        if off < -tol or off > tol:
            tr.skewed = True
        return True

    def on_lost(self, now, n):
        """The device's scanner lost n reports carrying the beacon's frame (its ring was full):
        counted ("lost_reports"), and told to the store as a K_FLOODED event at most once per
        flood_s, so that a deaf tag is not read as "no beacon here"."""
        if not isinstance(n, int) or n <= 0:
            self._count("bad_lost")
            return
        self.counts["lost_reports"] = self.counts.get("lost_reports", 0) + n
        self.lost += n
        self._flooded(now)

    def _flooded(self, now):
        if self.lost and now - self.lost_t >= self.p.flood_s:
            self._emit(now, K_FLOODED, ANY_BEACON, F_BLE, self.lost, [], [])
            self.lost = 0
            self.lost_t = now

    def on_scan_end(self, now):
        """A scan finished at `now`: time-outs are decided here (and by next_scan)."""
        self.last_end = now
        self._held(now)
        self._tick(now)

    def on_victim_position(self, now, lat, lon, acc_dm, beacon=0):
        """The victim's position (microdegrees, accuracy in decimetres), as the uplink brings
        it; `now` is when it was measured."""
        for v in (now, lat, lon, acc_dm):
            if not isinstance(v, int):
                self._count("bad_position")
                return
        if not (-90000000 <= lat <= 90000000 and -180000000 <= lon <= 180000000):
            self._count("bad_position")
            return
        if not 0 <= beacon < MAX_BEACONS:
            self._count("bad_beacon")
            return
        self.victim[beacon] = (now, lat, lon, acc_dm if acc_dm and acc_dm > 0 else 0)
        self._gnss(now)

    def on_fix(self, now, fix):
        """The wearer's accepted fix (tagcore.fix.Fix)."""
        self.fix = (fix.t, fix.lat, fix.lon, fix.acc_dm if fix.acc_dm else 0)
        sp = fix.speed_cms
        self.speed = (fix.t, sp if isinstance(sp, int) else 0)
        self._tick(now)

    # -- outputs --

    def next_scan(self, now):
        """(start, duration_ms) of the next scan: slow while nothing is around, back to back
        after a sighting or inside the GNSS pre-alert ring. Ask again after every scan and
        whenever an input arrives: the latest answer replaces earlier ones."""
        self._tick(now)
        p = self.p
        if self.urgent():
            dur = p.fast_scan_ms
            start = self.last_end + p.fast_period_s - dur // 1000
        else:
            dur = p.slow_scan_ms
            start = self.last_end + p.slow_period_s - dur // 1000
        return (start if start > now else now), dur

    def urgent(self):
        """True while a beacon is around or the wearer is inside a pre-alert ring: the tag
        should scan and fix more often (and never tell the wearer why)."""
        p = self.p
        for tr in self.tracks.values():
            # A beacon heard only faintly after its first probe_s, "near" by the held way or
            # not, is scanned for on the slow schedule: its sightings a scan apart are what
            # the held way decides on, and one louder than faint makes the scans fast again.
            # The probe (fast scans for probe_s after first contact) is skipped when a beacon
            # left faint comes back within reprobe_s: at the edge of range it comes and goes,
            # and a full minute at every return kept the tag scanning a fifth of the time.
            if tr.state != ABSENT and (
                (self.now - tr.first < p.probe_s and not tr.quiet)
                or tr.level >= p.near_dbm
                or (
                    tr.level >= p.near_dbm - p.faint_db
                    and (
                        not tr.quiet
                        or self.now - tr.around < p.hold_back_after_s
                        or tr.recheck_t <= self.now < tr.recheck_t + p.recheck_s
                    )
                )
            ):
                return True
        for b in range(MAX_BEACONS):  # the ring decides only while both positions are fresh
            if self.gstate[b] >= G_PRE and self._gnss_dist(b, self.now) is not None:
                return True
        f = self.fix
        if f is None or self.now - f[0] > self.p.max_age_s:
            return False
        for v in self.victim:
            if v is not None and self.now - v[0] <= self.p.area_age_s:
                if dist_dm(f[1], f[2], v[1], v[2]) <= self.p.pre_m * 10 + f[3] + v[3]:
                    return True
        return False

    def state(self, beacon=0):
        tr = self.tracks.get(beacon)
        return tr.state if tr is not None else ABSENT

    def pop_event(self):
        return self.events.pop(0) if self.events else None

    # -- decisions --

    def _emit(self, now, kind, beacon, flags, rssi, ts, rs, dist=-1):
        if len(self.events) >= MAX_EVENTS:
            self._count("events_dropped")
            return
        self.events.append(Event(now, kind, beacon, flags, rssi, dist, ts, rs))

    def _gnss_dist(self, beacon, now):
        # (distance dm, sum of accuracies dm) between wearer and victim, or None if either is
        # unknown or stale.
        v = self.victim[beacon]
        f = self.fix
        age = self.p.max_age_s
        if v is None or f is None or now - v[0] > age or now - f[0] > age:
            return None
        return dist_dm(f[1], f[2], v[1], v[2]), f[3] + v[3]

    def _check_flags(self, beacon, now):
        g = self._gnss_dist(beacon, now)
        if g is None:
            return F_BLE_ONLY, -1
        d, acc = g
        if d <= self.p.corroborate_m * 10 + acc:
            return F_CORROBORATED, d
        if d > self.p.contradict_m * 10 + acc:
            return F_CONTRADICTED, d
        return 0, d

    def _evaluate(self, now, beacon, tr):
        p = self.p
        m, med = tr.window_pct(now - p.window_s, p.pct)
        if m < p.min_samples:
            # Sparse (the slow schedule): the level of the sightings of the last sparse_s, not
            # the latest alone (one lucky sighting made the scans fast again: a neighbour
            # kept the tag scanning a quarter of the time).
            tr.level = tr.window_pct(now - p.sparse_s, p.pct)[1]
            tr.cand = tr.long_cand = False
            return
        tr.level = med
        if m >= p.decide_samples and med < p.near_dbm - p.faint_db:
            if not tr.quiet:
                tr.recheck_t = now + p.backoff_s
                tr.backoff = 0
            elif now >= tr.recheck_t:
                self._hold_back(now, tr)  # a re-check judged it faint: the next waits longer
            tr.quiet = True  # judged faint on a dense window: the probe has done its work
        elif m >= p.decide_samples and med >= p.near_dbm - p.long_db:
            tr.backoff = 0
            tr.recheck_t = now
        if tr.state == NEARBY and m < p.decide_samples:
            # Sparse (the slow schedule while faint): the level above may make the scans fast
            # again, but a decision waits for dense sightings (few correlated ones mislead).
            tr.cand = tr.long_cand = False
            return
        if tr.state == NEARBY:
            # Two ways in: at or above the threshold for dwell_in_s, or, for a presence that
            # lasts (a seated victim, a beacon deep in a bag: a loss held for minutes), at most
            # long_db below it for long_s. Only the first, with the filtered RSSI at or above
            # threshold + sure_db, is a confident "near": below that a pass at 15-30 m in the
            # open (two-ray, n = 2) looks the same, and the alert says so (F_LOW_CONF).
            if med >= p.near_dbm - p.long_db:
                if not tr.long_cand:
                    tr.long_cand = True
                    tr.long_since = now
            else:
                tr.long_cand = False
            hit = med >= p.near_dbm
            if not hit:
                tr.cand = False
            elif not tr.cand:
                tr.cand = True
                tr.since = now
            if (tr.cand and now - tr.since >= p.dwell_in_s) or (
                tr.long_cand and now - tr.long_since >= p.long_s
            ):
                self._near(now, beacon, tr, med, med < p.near_dbm + p.sure_db, p.window_s)
            return
        # Left below the level it came in by, less the hysteresis (the held way's lower level:
        # else a held presence would leave and come back every few minutes, an alert each time).
        if med >= p.near_dbm - (p.hold_db if tr.held else p.long_db) - p.hyst_db:
            tr.cand = False
            return
        if not tr.cand:
            tr.cand = True
            tr.since = now
        if now - tr.since >= p.dwell_out_s:
            tr.state = NEARBY
            tr.cand = False
            ts, rs = tr.recent(now - p.window_s)
            self._emit(now, K_NEAR_EXIT, beacon, F_BLE, med, ts, rs)

    def _near(self, now, beacon, tr, level, low, span, held=False):
        # Enter "near": the alert, its flags and its evidence (the sightings of the last span s).
        p = self.p
        tr.state = NEAR
        tr.held = held
        tr.cand = tr.long_cand = False
        chk, d = self._check_flags(beacon, now)
        tr.ble_only_alert = chk == F_BLE_ONLY
        fl = F_BLE | chk | (F_SKEWED | F_LOW_CONF if tr.skewed else 0)
        if low:
            fl |= F_LOW_CONF
        speed_t, sp = self.speed
        if sp >= p.vehicle_cms and now - speed_t <= p.vehicle_age_s:
            fl |= F_VEHICLE | F_LOW_CONF
        ts, rs = tr.recent(now - span)
        self._emit(now, K_NEAR, beacon, fl, level, ts, rs, d)

    def _held(self, now):
        # The held way in, once per scan: a presence of hold_s or more whose sightings over
        # its last hold_s (hold_n at least, sparse ones too: on the slow schedule while faint
        # they are further apart and less correlated) sit at most hold_db below the threshold.
        # A seated victim, a beacon in a bag, 8-10 m: a loss held for the whole encounter.
        # Always low confidence: a pass at 15-50 m in the open, a neighbour through a wall
        # look the same (docs/proximity.md, the field model's curves).
        p = self.p
        if p.hold_db < 0:
            return
        for beacon in self.tracks:
            tr = self.tracks[beacon]
            if tr.state != NEARBY or now - tr.first < p.hold_s:
                continue
            m, lv = tr.window_pct(now - p.hold_s, p.pct)
            if m >= p.hold_n and lv >= p.near_dbm - p.hold_db:
                self._near(now, beacon, tr, lv, True, p.hold_s, True)

    def _hold_back(self, now, tr):
        # The next re-check window of a quiet beacon, after a doubled wait.
        p = self.p
        b = tr.backoff if tr.backoff else p.backoff_s
        tr.recheck_t = now + b
        tr.backoff = b * 2 if b * 2 < p.backoff_max_s else p.backoff_max_s

    def _tick(self, now):
        p = self.p
        if now > self.now:
            self.now = now
        self._flooded(now)
        self._gnss(now)
        for beacon in self.tracks:
            tr = self.tracks[beacon]
            if tr.quiet and tr.state != ABSENT and now >= tr.recheck_t + p.recheck_s:
                self._hold_back(now, tr)  # the window passed: she did not come close
            if tr.state != ABSENT and now - tr.last_seen >= p.absent_s:
                if tr.state == NEAR:
                    self._emit(now, K_NEAR_EXIT, beacon, F_BLE, 0, [tr.last_seen], [])
                self._emit(now, K_GONE, beacon, F_BLE, 0, [tr.last_seen], [])
                tr.state = ABSENT
                tr.cand = tr.long_cand = False
                tr.skewed = False
            if tr.ble_only_alert:
                chk, d = self._check_flags(beacon, now)
                if chk & (F_CORROBORATED | F_CONTRADICTED):
                    tr.ble_only_alert = False
                    kind = K_CORROBORATED if chk == F_CORROBORATED else K_CONTRADICTED
                    self._emit(now, kind, beacon, F_BLE | F_GNSS | chk, 0, [], [], d)

    def _gnss(self, now):
        p = self.p
        for b in range(MAX_BEACONS):
            if self.victim[b] is None:
                continue
            g = self._gnss_dist(b, now)
            if g is None:
                # A stale pair decides nothing, but the episode goes on: positions arrive with
                # uploads, and a fresh pair resumes from the state it left (forgetting it made
                # every upload a new alert for one breach). After area_age_s without a decision
                # the state is forgotten and the next fresh pair starts a new episode.
                if self.gstate[b] != G_UNKNOWN and now - self.gseen[b] > p.area_age_s:
                    self.gstate[b] = G_UNKNOWN
                continue
            self.gseen[b] = now
            d = g[0]
            was = self.gstate[b]
            new = was
            if d <= p.excl_m * 10:
                new = G_IN
            elif d <= p.pre_m * 10:
                new = G_PRE if was != G_IN or d > (p.excl_m + p.gnss_hyst_m) * 10 else G_IN
            elif was <= G_OUT or d > (p.pre_m + p.gnss_hyst_m) * 10:
                new = G_OUT
            elif was == G_IN:
                new = G_PRE
            if new == was:
                continue
            self.gstate[b] = new
            fl = F_GNSS
            if new == G_IN:
                self._emit(now, K_GNSS_IN, b, fl, 0, [], [], d)
            elif new == G_PRE:
                self._emit(now, K_GNSS_EXIT if was == G_IN else K_GNSS_PRE, b, fl, 0, [], [], d)
            elif was != G_UNKNOWN:
                if was == G_IN:  # jumped straight out: the exit comes first
                    self._emit(now, K_GNSS_EXIT, b, fl, 0, [], [], d)
                self._emit(now, K_GNSS_OUT, b, fl, 0, [], [], d)


def encode_event(ev):
    """The data bytes of an EV_PROXIMITY record for Event `ev` (its time goes in the record):
    version, kind, beacon, flags (u8 each) | zz(filtered RSSI) | distance dm + 1 (0: unknown) |
    sample count | per sample: age before the event (s), zz(RSSI)  (varints)."""
    t = ev.t
    ts = ev.times
    rs = ev.rssis
    out = bytearray((EVENT_VERSION, ev.kind, ev.beacon, ev.flags))
    put_varint(out, zz(ev.rssi))
    put_varint(out, ev.dist_dm + 1 if ev.dist_dm >= 0 else 0)
    n = len(rs)
    put_varint(out, n)
    for j in range(n):
        put_varint(out, t - ts[j] if t >= ts[j] else 0)
        put_varint(out, zz(rs[j]))
    return bytes(out)


def decode_event(t, data, counts=None):
    """The Event encode_event's bytes hold, or None if they are not one (counted in `counts`
    under "bad_event" when given): the convention of tagcore.zones.monitor.decode_event."""
    try:
        end = len(data)
        if end >= 4 and data[0] == EVENT_VERSION:
            u, i = get_varint(data, 4, end)
            rssi = unzz(u)
            u, i = get_varint(data, i, end)
            dist = u - 1
            n, i = get_varint(data, i, end)
            if n <= end:  # each sample takes at least two bytes: no list from a forged count
                ts = []
                rs = []
                for _ in range(n):
                    u, i = get_varint(data, i, end)
                    ts.append(t - u)
                    u, i = get_varint(data, i, end)
                    rs.append(unzz(u))
                if i == end:
                    return Event(t, data[1], data[2], data[3], rssi, dist, ts, rs)
    except (TypeError, ValueError, IndexError):
        pass
    if counts is not None:
        counts["bad_event"] = counts.get("bad_event", 0) + 1
    return None
