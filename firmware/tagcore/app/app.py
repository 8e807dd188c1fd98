# TagApp: the tag's application, driven by the device shell and the simulator alike. It feeds
# the core (NmeaReader -> FixFilter -> Store, the zone and proximity cores) with what the shell
# delivers and answers with what the tag wants next; the one Planner (below) decides.
#
# Inputs (the shell calls these with `now`, integer seconds since 2000):
#   wake(now)                      the wake time the tag asked for has come
#   uart(now, chunk), uart_idle(now)   GNSS bytes; the line went quiet (end of the epoch burst)
#   ubx(now, cls, mid, payload)    a UBX frame the shell's framer took out of those bytes
#   scan_result(now, addr, rssi, adv), scan_done(now)   one BLE advertisement; the scan ended
#   scan_lost(now, n)              the scanner had no room for n reports (a crowd, a flood)
#   battery(now, pct), tamper(now, kind), link(now, up)
#   victim(now, lat, lon, acc_dm)  the victim's position, brought by the uplink
#   uplink_reply(now, body), uplink_failed(now)   the answer to uplink_request
# Outputs (read after each call):
#   gnss_on, gnss_mode   the GNSS rail should be powered; the planner's receiver mode
#   want_scan, scan_ms   a BLE scan should run now for scan_ms (each advertisement reported at
#                        the second it arrives, then scan_done)
#   uplink_request       None, or what the shell must send (with an external uplink client)
#   wake_at              when to call wake() if nothing else happens first (deep sleep)
#   events               what the tag did, as tuples; the shell drains them with take_events()
# Events: ("F", now, t, lat, lon, acc_dm, sats, seq) fix stored; ("R", now, t) fix refused by the
#   filter; ("G", now, on) GNSS power; ("U", now, status, n) upload: 1 sent and acknowledged,
#   0 no link, 2 sent but a segment was unreadable (not acknowledged); ("S", now, addr, rssi)
#   scan result; ("A", now, zone, kind, zkind, rule, t, evidence count, secs) a
#   zone Alert (tagcore.events);
#   ("P", now, beacon, kind, ...) a proximity decision; ("T", now, code) tamper; ("B", now, pct)
#   low battery; ("L", now) a fix search timed out; ("K", now, up) link state; ("I", now, kind,
#   onset) a GNSS integrity event (tagcore.gnss.integrity K_*: kinds below K_END are alerts).
#
# Cores (TagApp(cfg, fs, now, zones, proximity); None: a plain tracker):
#   zones      tagcore.zones.monitor.ZoneMonitor: on_fix, on_no_fix, wanted_interval (the
#              planner's cap), nearest_dm (the drive-through guard); stored alerts go out at once.
#   proximity  tagcore.proximity.monitor.Proximity: on_scan, on_scan_end, on_fix, next_scan,
#              urgent,
#              pop_event; K_NEAR / K_GNSS_IN go out at once.
#   uplink     None: the store is read and acknowledged at once (the simulator's loopback);
#              else an object with tagcore.uplink's UplinkClient calls request(now) -> body or
#              None, on_reply(now, body) -> acknowledged seq or None, on_failure(now).
#
# Every alert the tag stores (zone, loss of location, proximity, tamper) raises alert_seq: it
# goes out at the next plan() with a link, and the moment the link returns if it was down.
# Data-minimising mode (cfg.minimise): no continuous trail. Fixes feed the cores but are not
# stored; the evidence the rules need is inside the zone and proximity events themselves.
from tagcore.compat import const
from tagcore.gnss.fixfilter import FixFilter
from tagcore.gnss.nmea import NmeaReader
from tagcore.store import record as R
from tagcore.store.log import Store

# ---- the planner ----------------------------------------------------------------------
# The one planner: every "what next and when" decision of the tag. Sans-I/O: `now` is an
# argument; the app (tagcore.app.app) carries out what it decides.
#
#   p = Planner(cfg, now, zones=None, proximity=None, rx=None, cold_s=0)
#   p.search_due(now)        start a fix search if one is due (True: the receiver goes on)
#   p.give_up(now)           True once a search has run its cap (p.cap) without a fix: the
#                            fixed plan's is max_search_s, after a failure at least twice
#                            cold_s (the board's worst field cold TTFF) until a fix
#   p.fix_taken(now, fix)    an accepted fix: the search ends, the next one is scheduled
#   p.gnss_mode()            the receiver power decision (today GNSS_OFF or GNSS_ON)
#   p.upload_due(now)        an upload is due (or was brought forward by an alert)
#   p.uploaded(now)          an upload was tried: the next regular one is scheduled
#   p.alert(now)             an alert must go out: the upload is brought forward to now
#   p.alarm(now, s)          an attack on the GNSS (tagcore.gnss.integrity), or the suspicion
#                            of one: fixes every ALARM_FIX_S for s (ALARM_S)
#   p.scan(now, scanning)    whether a BLE scan should run now (and p.scan_ms)
#   p.wake_time(now, flush_at)   when to wake the app if nothing else happens first
# With zones and cfg.guard_kmh > 0 the drive-through guard (guard.py) caps the interval too.
# The model plan with cfg.still_fix_s > 0: a wearer still (tagcore.gnss.rate.Still) far from
# every zone, the victim and a curfew change gets one fix every still_fix_s (_still_ok).
NEVER = 1 << 62
SCAN_MS = 2000  # a scan without the proximity core: window = interval, 2 s
URGENT_FIX_S = 20  # the fix interval while the proximity core says a beacon may be near
ALARM_FIX_S = 10  # the fix interval after a detected attack on the GNSS ...
ALARM_S = 1800  # ... for this long (an episode of shielding or jamming, and its end)

PS_SLOW_S = 5  # a fix in power save later than this after it was due is a miss
PS_SLOW_N = 3  # ... so many in a row: power save is not working here
PS_OFF_S = 600  # ... full power for this long, then power save is tried again
RADIO_DM = 3000  # BLE heard at most this far (300 m: long range; encounters are 10 m)
APART_MAX_S = 600  # idle scans wait at most this long for the victim's distance
LONG_ENC_S = 900  # an encounter alerted and still going after this long ...
LONG_ENC_GAP_S = 50  # ... scans 10 s of every minute instead of back to back (100 mA)

# Receiver power decisions: tagcore.gnss.power's modes (CONTINUOUS 0, CYCLIC 1, BACKUP 2, OFF 3).
# The fixed plan (cfg.gnss_plan 0) knows only on (continuous) and off.
GNSS_ON = const(0)
GNSS_CYCLIC = const(1)
GNSS_BACKUP = const(2)
GNSS_OFF = const(3)

# ---- may the MCU deep-sleep now -----------------------------------------------------------
# The one rule, for the device shell (it sleeps by it), the simulator's power model (it charges
# the MCU's deep or light sleep by it) and the battery budget (it projects life by it). A deep
# sleep loses RAM: the tag boots again from RTC memory (the store's state, the uplink counters;
# tagdevice.shell), so it may sleep deeply only when nothing else in RAM must survive:
#   held     a zone or proximity core (their state is RAM only), or a BLE stack up (the shell
#            keeps it once scanning runs)
#   rx_off   the receiver off, its power state machine idle: GnssPower starts from OFF at boot
#            and must find the receiver so (a receiver in backup keeps the MCU in light sleep)
#   pending  no uplink request outstanding
#   dt       the sleep is at least DEEPSLEEP_MIN_S (a boot costs more than a short one saves)
# Else the MCU light-sleeps (the profile's current_ma.mcu.light_sleep: ~0.8 mA on an ESP32
# against 0.01 deep). The shell's safe mode (no cores, defaults) adds its own refusal.
DEEPSLEEP_MIN_S = const(30)


def deep_sleep_ok(held, rx_off, pending, dt):
    return not held and rx_off and not pending and dt >= DEEPSLEEP_MIN_S


class Planner:
    def __init__(self, cfg, now, zones=None, proximity=None, rx=None, cold_s=0):
        self.cfg = cfg
        self.zones = zones
        self.proximity = proximity
        self.search_from = -1  # when the current fix search began; -1: not searching
        self.next_fix = now
        # The model plan (cfg.gnss_plan 1 and the board's tagcore.gnss.energy.Receiver): per fix
        # the receiver mode from energy.choose, early start, search cap and back-off from
        # tagcore.gnss.schedule. None: the fixed plan (rail on to search, off between).
        self.rx = rx if cfg.gnss_plan else None
        self.sched = None
        self.idle = GNSS_OFF  # the mode between fixes
        self.cap = cfg.max_search_s  # the current search's cap
        # The fixed plan after a failure: never below twice the worst field cold TTFF of the
        # board (cold_s: tagcore.gnss.profile.field_cold_s), as energy.search_cap_s for the
        # model plan (Meshtastic issue 5132: a search cut before a cold start can finish never
        # succeeds)
        self.cold_cap = 2 * cold_s
        self.due = now  # when the next fix is due (the search starts early, by the prediction)
        self.slow = 1  # the budget's fix-interval factor away from zones (tagcore.app.budget)
        self.up_x = 1  # ... its upload-interval factor
        self.scan_x = 1  # ... and its factor on the gaps between scans away from the victim
        self.listen_from = 0  # the MCU sleeps through the predicted lock time of a search
        self.hold_until = 0  # tracking on after a fix to refresh the ephemeris (backup / off)
        self.eph_at = now  # the last such refresh
        self.ps_slow = 0  # consecutive searches in power save that took longer than PS_SLOW_S
        self.ps_off_until = 0  # power save gives no fixes here (indoors, canyons): full power
        self.apart = 0  # seconds the wearer and the victim need to come within radio range ...
        self.apart_t = 0  # ... counted from here (the older of the two positions)
        self.victim_pos = None  # (now, lat, lon, acc_dm) as the uplink brought it
        self.urgent_since = -1  # the proximity core has been urgent since (-1: it is not)
        self.alerted_at = -1  # the last alert (any kind)
        self.scan_end_at = -1  # the last scan ended
        if self.rx is not None:
            from tagcore.gnss import energy
            from tagcore.gnss.schedule import SearchSchedule

            self.energy = energy
            self.sched = SearchSchedule(self.rx)
            self.cap = self._cap(self.cfg.fix_interval_s)
        self.next_scan = now if cfg.scan_interval_s > 0 or proximity is not None else NEVER
        self.scan_ms = SCAN_MS
        self.uploaded(now)  # the first regular upload (next_upload)
        self.last_fix = None  # the latest accepted fix (speed and position for the guard)
        self.alarm_until = -1  # an attack on the GNSS raised the fix rate until then
        self.fix_at = -1  # when it came
        self.guard = None  # the drive-through guard (guard.py), imported only when configured
        self.still = None  # the still-wearer rate (tagcore.gnss.rate.Still), model plan only
        self.episode = False  # the app's integrity checks hold an episode open
        self.victim_dm = 0  # the victim's last position, beyond radio range (_apart)
        self.still_on = False  # the last interval() was the still rate ...
        self.still_n = 0  # ... and so many fixes were followed by it (bench_battery)
        if self.rx is not None and cfg.still_fix_s > 0:
            from tagcore.gnss import rate

            self.rate = rate
            self.still = rate.Still()
        if zones is not None and cfg.guard_kmh > 0 and hasattr(zones, "nearest_dm"):
            from tagcore.app.guard import guard

            self.guard = guard

    # ---- fixes ------------------------------------------------------------------------------
    def interval(self, now, guarded=True):
        iv = self.cfg.fix_interval_s * self.slow  # the budget slows only the baseline
        if self.proximity is not None and self.proximity.urgent() and URGENT_FIX_S < iv:
            iv = URGENT_FIX_S
        if now < self.alarm_until and ALARM_FIX_S < iv:
            iv = ALARM_FIX_S
        still = self.still is not None and iv < self.cfg.still_fix_s and self._still_ok(now)
        if still:  # the guard below still shortens it where a zone is within reach
            iv = self.cfg.still_fix_s
        if self.zones is not None:
            w = self.zones.wanted_interval(now)
            if w is not None and w < iv and not still:  # still: the zone core is not near
                iv = w
            if guarded and self.guard is not None and self.last_fix is not None:
                g = self.guard(self.zones, self.cfg, self.last_fix, iv)
                if g < iv:
                    iv = g
        self.still_on = still
        return iv

    def _still_ok(self, now):
        # Every exclusion keeps the normal rate: not still long enough (or the last fix poor,
        # Still's own test), an integrity alarm or open episode, the proximity core urgent or
        # a beacon heard at all, the victim's last position within STILL_FAR_DM, a zone core
        # sampling fast, a curfew or zone window changing within STILL_MARGIN_S, and an
        # exclusion zone the wearer could reach within still_fix_s (the drive-through guard's
        # reach when it is configured, else STILL_FAR_DM). All or nothing: a still rate the
        # guard would shorten is not taken (an interval between the two saves little and
        # costs the schedule's prediction).
        r, s, f = self.rate, self.still, self.last_fix
        if s is None or f is None or s.still_s(now) < r.STILL_AFTER_S:
            return False
        if self.episode or now < self.alarm_until:
            return False
        px = self.proximity
        if px is not None:
            if px.urgent():
                return False
            for tr in px.tracks.values():
                if tr.state:  # not ABSENT
                    return False
        if self.victim_pos is not None and self.victim_dm < r.STILL_FAR_DM:
            return False
        z = self.zones
        if z is not None:
            w = z.wanted_interval(now)
            if w is not None and w < self.cfg.fix_interval_s:
                return False
            # the zone core refreshes a zone's next change only when it judges the zone (far
            # exclusion zones it skips: the distance below covers those): older ones are stale
            for c in getattr(z, "changes_at", ()):
                if f.t < c < now + r.STILL_MARGIN_S:
                    return False
            if self.guard is not None:
                iv = self.cfg.still_fix_s
                if self.guard(z, self.cfg, f, iv) < iv:
                    return False
            elif hasattr(z, "nearest_dm"):
                d = z.nearest_dm(f.lat, f.lon)
                if d is not None and d - f.acc_dm < r.STILL_FAR_DM:
                    return False
        return True

    def search_due(self, now):
        if self.search_from < 0 and now >= self.next_fix:
            self.search_from = now  # start a fix search: the receiver goes on
            s, rx = self.sched, self.rx
            if s is not None and rx is not None and self.idle >= GNSS_BACKUP:
                # The MCU sleeps through the start's earliest field TTFF (no fix comes sooner),
                # not the predicted one: a fix read late keeps the receiver tracking, at 29 mA
                # against the 4 mA the MCU saves (measured in the simulator: 3x the tracking).
                if s.failures or not s.locks:
                    q = rx.cold_s
                else:
                    q = self.energy.start_quantiles(self.idle, self.cfg.fix_interval_s, rx)
                self.listen_from = now + q[0] - 1
            return True
        return False

    def give_up(self, now):
        if self.search_from >= 0 and now - self.search_from >= self.cap:
            self.search_from = -1  # give up this sample: save the battery
            if self.still is not None:
                self.still.lost()
            # Without a fresh position the guard has nothing to go on (indoors, a tunnel):
            # the normal schedule, and the zone core's loss-of-location rule, take over.
            iv = self.interval(now, False)
            s = self.sched
            if s is None:
                self.next_fix = now + iv
                if self.cold_cap > self.cap:  # the next start may be cold
                    self.cap = self.cold_cap
                return True
            self._ps_result(now, self.cap)
            s.failed()  # back-off (never near a zone or the victim), cold cap next
            self.due = s.next_due(now, iv, self._near(now, iv))
            self._schedule(iv)
            return True
        return False

    def fix_taken(self, now, fix):
        self.last_fix = fix
        self.fix_at = now
        if self.still is not None:
            self.still.fix(now, fix)
        if self.victim_pos is not None:
            self._apart()
        if self.search_from >= 0:  # after the cores: this fix may change the interval
            iv = self.interval(now)
            s, rx = self.sched, self.rx
            if s is None:  # the fixed plan: a lock, the configured cap again
                self.cap = self.cfg.max_search_s
            if self.still_on:
                self.still_n += 1
            if iv > 0:
                if s is not None and rx is not None:
                    self._ps_result(now, now - self.search_from)
                    s.locked(now - self.search_from)
                    self.due = now + iv
                    self._schedule(iv)
                    # Short hot-start sessions never download new ephemeris: track on for
                    # energy.EPH_S every half hot window (the model charges exactly that).
                    if self.idle >= GNSS_BACKUP and now - self.eph_at >= rx.hot_window_s // 2:
                        self.eph_at = now
                        self.hold_until = now + 30  # energy.EPH_S
                else:
                    self.next_fix = now + iv
                self.search_from = -1
            else:  # the guard: within reach of a zone the receiver stays on
                self.search_from = now

    def _ps_result(self, now, took):
        # Power save tracks worse indoors and in canyons (longer integration gaps): while it
        # keeps missing the fix due, the receiver runs at full power for a while instead.
        if self.idle != GNSS_CYCLIC:
            return
        if took <= PS_SLOW_S:
            self.ps_slow = 0
            return
        self.ps_slow += 1
        if self.ps_slow >= PS_SLOW_N:
            self.ps_slow = 0
            self.ps_off_until = now + PS_OFF_S

    def _near(self, now, iv):
        # near a zone or the victim: the cores asked for a shorter interval than the baseline
        return iv < self.cfg.fix_interval_s * self.slow

    def _cap(self, iv):
        # never below twice the worst field TTFF of the start (cold after a failure), nor
        # below the configured cap (energy.search_cap_s; Meshtastic issue 5132)
        s = self.sched  # the first search after power-up is cold too
        if s is None:
            return self.cfg.max_search_s
        c = self.energy.search_cap_s(self.idle, iv, self.rx, s.failures > 0 or s.locks == 0)
        return c if c > self.cfg.max_search_s else self.cfg.max_search_s

    def _schedule(self, iv):
        # The mode between fixes for this interval, and the early start: the receiver goes
        # on the predicted lock time before the fix is due, so the fix lands on time.
        s = self.sched
        if s is None:
            return
        self.idle = self.energy.choose(iv, self.rx)[0]
        if self.idle == GNSS_CYCLIC and self.due - iv < self.ps_off_until:
            self.idle = GNSS_ON
        lead = 0
        if self.idle == GNSS_BACKUP or self.idle == GNSS_OFF:
            lead = s.predicted_s(self.idle, iv)
        self.next_fix = self.due - lead
        self.cap = self._cap(iv)

    def gnss_mode(self, now=0):
        if self.rx is None:
            return GNSS_ON if self.search_from >= 0 else GNSS_OFF
        if self.search_from >= 0:  # a search: full power, unless power save already tracks
            return GNSS_CYCLIC if self.idle == GNSS_CYCLIC else GNSS_ON
        if now < self.hold_until:
            return GNSS_ON
        return self.idle

    def listening(self, now):
        """The MCU wants the receiver's epochs now (the model plan)."""
        return self.search_from >= 0 and now >= self.listen_from

    @property
    def searching(self):
        return self.search_from >= 0

    # ---- uploads ----------------------------------------------------------------------------
    def upload_due(self, now):
        return now >= self.next_upload

    def uploaded(self, now):
        iv = self.cfg.upload_interval_s * self.up_x
        if self.cfg.upload_policy == 1:  # config.UP_ALERTS_ONLY: a heartbeat, alerts at once
            iv *= 4  # config.HEARTBEAT_X
        self.next_upload = now + iv

    def alert(self, now):
        self.next_upload = now
        self.alerted_at = now

    def alarm(self, now, s=ALARM_S):
        self.alarm_until = now + s
        if self.search_from < 0 and self.next_fix > now + ALARM_FIX_S:
            self.next_fix = now + ALARM_FIX_S

    # ---- scans and waking ---------------------------------------------------------------
    def scan(self, now, scanning):
        if self.proximity is not None and not scanning:
            self.next_scan, self.scan_ms = self.proximity.next_scan(now)
            if self.proximity.urgent():
                if self.urgent_since < 0:
                    self.urgent_since = now
                # A long encounter, alerted: the server knows; presence is checked every
                # minute instead of continuously (a day of battery or less otherwise).
                if (
                    self.rx is not None
                    and now - self.urgent_since >= LONG_ENC_S
                    and self.alerted_at >= self.urgent_since
                    and self.scan_end_at + LONG_ENC_GAP_S > self.next_scan
                ):
                    self.next_scan = self.scan_end_at + LONG_ENC_GAP_S
            else:
                self.urgent_since = -1
                if self.scan_x > 1 and self.next_scan > now:  # the budget
                    self.next_scan = now + (self.next_scan - now) * self.scan_x
                if self.rx is not None and self.apart:  # the victim is far (model plan)
                    until = self.apart_t + self.apart
                    if until > now + APART_MAX_S:
                        until = now + APART_MAX_S
                    if until > self.next_scan:
                        self.next_scan = until
        return now >= self.next_scan

    def victim_seen(self, now, lat, lon, acc_dm):
        self.victim_pos = (now, lat, lon, acc_dm)
        if self.last_fix is not None:
            self._apart()

    def _apart(self):
        # Scan when the rules need it: with both positions known, no encounter is possible
        # before both could have covered the gap at guard_kmh (130 km/h with the guard off),
        # counted from the older position; computed once per position, not per plan().
        from tagcore.geo import dist_dm

        f, v = self.last_fix, self.victim_pos
        if f is None or v is None:
            return
        acc = f.acc_dm if f.acc_dm else 500
        d = dist_dm(f.lat, f.lon, v[1], v[2]) - acc - v[3] - RADIO_DM
        kmh = self.cfg.guard_kmh if self.cfg.guard_kmh > 0 else 130
        closing = kmh * 20000 // 3600  # dm/s, both moving towards each other
        self.apart = d // closing if d > 0 else 0
        self.victim_dm = d
        self.apart_t = self.fix_at if self.fix_at < v[0] else v[0]

    def scan_ended(self, now):
        self.scan_end_at = now
        if self.proximity is None:
            self.next_scan = now + self.cfg.scan_interval_s * self.scan_x

    def wake_time(self, now, flush_at):
        # While searching, the receiver's epochs drive the tag (uart_idle); only the give-up
        # time needs a wake. Otherwise the next fix search does.
        nxt = self.next_fix if self.search_from < 0 else self.search_from + self.cap
        if self.next_scan < nxt:
            nxt = self.next_scan
        if self.next_upload < nxt:
            nxt = self.next_upload
        if flush_at is not None and flush_at < nxt:
            nxt = flush_at
        if self.search_from >= 0 and now < self.listen_from < nxt:
            nxt = self.listen_from
        if now < self.hold_until < nxt:
            nxt = self.hold_until
        return nxt if nxt > now else now + 1


# ---- the app --------------------------------------------------------------------------
UPLOAD_BATCH = 16  # records read from the store at a time while uploading


def _events():
    # tagcore.events (the stored events' codec), imported at the first event to store: at
    # boot a board without PSRAM has no heap to spare for it.
    from tagcore import events

    return events


def _ms(now):
    # GnssPower's clock: milliseconds on a counter that wraps at 2**30 (time.ticks_ms)
    return (now * 1000) & 0x3FFFFFFF


class TagApp:
    def __init__(
        self,
        cfg,
        fs,
        now,
        zones=None,
        proximity=None,
        uplink=None,
        sealer=None,
        gnss=None,
        rtc=None,
        cold_s=0,
    ):
        self.cfg = cfg
        self.reader = NmeaReader()
        self.filter = FixFilter()
        # Jamming, shielding, spoofing (tagcore.gnss.integrity): made at the first GNSS bytes,
        # after boot's peak (the configuration codec is unloaded by then).
        self.integrity = None
        # sealer: tagcore.store.seal (docs/evidence.md); rtc: tagcore.store.rtcstate bytes after a
        # deep sleep
        self.store = Store(fs, now, sealer=sealer, rtc=rtc)
        t = self.store.newest_fix_t()
        if t is not None:  # a date before the last stored fix is refused, not unrolled
            self.reader.raise_floor(t)
        self.zones = zones
        self.proximity = proximity
        self.uplink = uplink
        # gnss: (tagcore.gnss.energy.Receiver, tagcore.gnss.power.GnssPower, tagcore.app.budget
        # Costs) of the board (tagcore.gnss.profile.gnss_for(doc, cfg.battery_mah)); used with
        # cfg.gnss_plan 1: the planner's mode goes to
        # the state machine, its command bytes and rail actions out as gnss_actions.
        rx = None
        self.power = None
        self.budget = None  # tagcore.app.budget: the battery budget and warnings
        self.wearer = 0  # the wearer's signal: 0 none, 2 low battery, 3 critical (charge now)
        self.asked = GNSS_OFF  # the mode last requested from the state machine
        if gnss is not None and cfg.gnss_plan:
            from tagcore.app.budget import Budget
            from tagcore.gnss.ubx import UbxFramer

            rx, self.power, costs = gnss
            self.framer = UbxFramer()  # UBX replies (ACK/NAK) out of the NMEA stream
            self.budget = Budget(cfg, costs, rx, now)
        self.gnss_actions = []  # ("uart", bytes) | ("rail", action), in order: take_gnss_actions
        self.gnss_listen = False  # the tag wants the receiver's epochs (uart, uart_idle)
        # cold_s: the board's worst field cold TTFF (profile.field_cold_s), the fixed plan's cap
        # after a failure (the model plan takes it from gnss's Receiver)
        self.planner = Planner(cfg, now, zones, proximity, rx, cold_s)
        self.events = []
        self.gnss_on = False
        self.gnss_mode = GNSS_OFF
        self.want_scan = False
        self.ble_up = False  # a scan was wanted since boot: the shell keeps its BLE stack up
        self.scan_ms = self.planner.scan_ms
        self.uplink_request = None
        self.wake_at = now
        if proximity is not None:  # imported only when used: the module costs heap
            from tagcore.proximity.monitor import K_GNSS_IN, K_NEAR, encode_event

            self.encode_event = encode_event
            self.prox_alerts = (K_NEAR, K_GNSS_IN)  # kinds that are alerts: out at once
        if zones is not None:
            from tagcore.zones.monitor import STORED_ALERTS

            self.stored_alerts = STORED_ALERTS
        self.alert_seq = 0  # the newest stored alert's sequence number
        self.epoch_fix = False  # the current receiver epoch gave an accepted fix
        self.link_up = True
        self.acked = 0
        self.lost = False  # a search timed out and no fix came since (EV_LOC_LOST logged once)
        self.low_batt = False
        self.fixes = 0
        self.plan(now)

    @property
    def held(self):
        """RAM that a deep sleep would lose: a zone or proximity core, a BLE stack up."""
        return self.zones is not None or self.proximity is not None or self.ble_up

    def may_deepsleep(self, now):
        """The MCU may deep-sleep from `now` until wake_at (deep_sleep_ok, above)."""
        pw = self.power
        rx_off = not self.gnss_on if pw is None else pw.mode == GNSS_OFF and not pw.busy
        return deep_sleep_ok(self.held, rx_off, self.uplink_request is not None, self.wake_at - now)

    @property
    def alert_unsent(self):
        """An alert is stored that no acknowledged upload has taken yet."""
        return self.alert_seq > self.acked

    def take_events(self):
        ev = self.events
        self.events = []
        return ev

    def take_gnss_actions(self):
        a = self.gnss_actions
        self.gnss_actions = []
        return a

    # ---- inputs -------------------------------------------------------------------------
    def wake(self, now):
        self.store.tick(now)
        if self.power is not None:
            self.power.tick(_ms(now))
        if self.budget is not None:  # a warning may be due between battery readings
            self._budget(now, self.budget.check(now))
        self.plan(now)

    def uart(self, now, chunk, n=-1):
        # n: bytes of chunk to take (-1: all; the shell's reused buffer)
        if self.integrity is None:
            from tagcore.gnss.integrity import Integrity

            self.integrity = Integrity()
            self.integrity.attach(self.reader)
        self.integrity.now = now
        pw = self.power
        if pw is None:
            if self.reader.feed(chunk, n):
                self._drain(now)
        else:
            fr = self.framer
            fr.feed(chunk, n, self.reader)  # NMEA goes on to the reader, UBX frames are queued
            ms = _ms(now)
            while True:
                m = fr.pop()
                if m is None:
                    break
                pw.on_ubx(ms, m[0], m[1], m[2])
                self._rx_flags(m[0], m[1], m[2])  # the receiver's own jamming / spoofing
            if chunk:
                pw.on_output(ms)
            self._drain(now)
        self._integrity(now)

    def uart_idle(self, now):
        if self.integrity is not None:
            self.integrity.now = now
        if self.power is not None:
            self.framer.flush()
            self.power.tick(_ms(now))
        if self.reader.flush():
            self._drain(now)
        self._integrity(now)
        if self.zones is not None and not self.epoch_fix and self.planner.search_from >= 0:
            self._zone_alerts(now, self.zones.on_no_fix(now))  # the receiver is on: no fix
        self.epoch_fix = False
        self.plan(now)

    def _drain(self, now):
        while True:
            f = self.reader.pop()
            if f is None:
                return
            if self.power is not None and self.planner.search_from < 0:
                continue  # the receiver runs on between fixes (continuous, cyclic): not due
            prev = self.filter.last
            if not self.filter.check(f):
                if f.quality:  # a fix the filter refused (no-fix epochs are only counted)
                    self.events.append(("R", now, f.t))
                    if self.integrity is not None:
                        self.integrity.fix(f, False, self.filter.counts)
                continue
            if self.integrity is not None:
                self.integrity.fix(f, True, self.filter.counts)
            if prev is not None:  # the older of the last two: one outlier never raises it
                self.reader.raise_floor(prev.t if prev.t < f.t else f.t)
            seq = 0
            if not self.cfg.minimise:  # data-minimising: no trail kept or sent
                seq = self.store.append_fix(now, f)[0]
            self.fixes += 1
            self.lost = False
            self.epoch_fix = True
            self.events.append(("F", now, f.t, f.lat, f.lon, f.acc_dm, f.sats, seq))
            if self.zones is not None:
                self._zone_alerts(now, self.zones.on_fix(now, f))
            if self.proximity is not None:
                self.proximity.on_fix(now, f)
                self._prox_events(now)
            self.planner.fix_taken(now, f)  # after the cores: this fix may change the interval

    def _integrity(self, now):
        # A detected attack is stored with its evidence, raises the fix rate and goes out at
        # once as a circumvention alert; the end of an episode is stored as evidence only.
        g = self.integrity
        if g is None:
            return
        self.planner.episode = g.named != 0 or g.active != 0  # no still rate while open
        if g.watch:  # a suspicion: fixes more often for a while, to confirm or clear it
            g.watch = False
            if now + g.watch_s > self.planner.alarm_until:
                self.planner.alarm(now, g.watch_s)
        while True:
            ev = g.pop()
            if ev is None:
                return
            k, t, vals = ev
            E = _events()
            kind, data = E.encode(E.Integrity(t, k, vals))
            seq = self.store.append_event(kind, t, data)[0]
            self.events.append(("I", now, k, t))
            if g.alert(k):
                self._alert(now, seq)
                self.planner.alarm(now)

    def ubx(self, now, cls, mid, payload):
        """A UBX frame from the receiver that a framer outside the app took out of the stream
        (uart() frames its own with the model plan): its own jamming and spoofing flags
        (UBX-MON-RF, NAV-STATUS, SEC-SIG) go to the integrity checks. Returns None."""
        if self.integrity is not None:
            self.integrity.now = now
            self._rx_flags(cls, mid, payload)
            self._integrity(now)
            self.plan(now)

    def _rx_flags(self, cls, mid, payload):
        from tagcore.gnss.ubx import integrity_of  # loaded with the framer already

        g = self.integrity
        if g is not None:
            g.rx(integrity_of(cls, mid, payload))

    def scan_result(self, now, addr, rssi, adv=b""):
        self.events.append(("S", now, addr, rssi))
        if self.proximity is not None:
            self.proximity.on_scan(now, addr, rssi, adv)
            self._prox_events(now)
            if self.planner.upload_due(now):  # an alert: out now, not when the scan ends
                self.plan(now)

    def scan_lost(self, now, n):
        """The device's scanner lost n reports of the beacon's frame (its ring was full): the
        tag was partly deaf. The proximity core counts them and a K_FLOODED event (at most one
        per its flood_s) is stored now, so a deaf tag is not read as "no beacon here". Without
        a proximity core nothing listens for the beacon: ignored. Returns None; a bad n is
        counted by the core (bad_lost), never raised."""
        if self.proximity is not None:
            self.proximity.on_lost(now, n)
            self._prox_events(now)

    def scan_done(self, now):
        self.want_scan = False
        if self.budget is not None:
            self.budget.scanned(self.scan_ms)
        if self.proximity is not None:
            self.proximity.on_scan_end(now)
            self._prox_events(now)
        self.planner.scan_ended(now)
        self.plan(now)

    def _prox_events(self, now):
        encode_event = self.encode_event
        while True:
            ev = self.proximity.pop_event()
            if ev is None:
                return
            seq = self.store.append_event(R.EV_PROXIMITY, ev.t, encode_event(ev))[0]
            self.events.append(("P", now, ev.beacon, ev.kind, ev.flags, ev.rssi, ev.dist_dm))
            if ev.kind in self.prox_alerts:
                self._alert(now, seq)

    def _alert(self, now, seq):
        self.alert_seq = seq
        self.planner.alert(now)  # out at the next plan(), or when the link returns
        hook = getattr(self.uplink, "alert", None)
        if hook is not None:  # an external client sends it first, ahead of the backlog
            hook(seq)

    def victim(self, now, lat, lon, acc_dm):
        """The victim's position (microdegrees, accuracy dm) as the uplink brings it."""
        if self.proximity is not None:
            self.proximity.on_victim_position(now, lat, lon, acc_dm, 0)
            self._prox_events(now)
        self.planner.victim_seen(now, lat, lon, acc_dm)
        self.plan(now)

    def battery(self, now, pct):
        b = self.budget
        if b is not None:
            self._budget(now, b.update(now, pct))
        if pct <= self.cfg.low_battery_pct and not self.low_batt:
            self.low_batt = True
            E = _events()
            kind, data = E.encode(E.LowBattery(now, pct))
            self.store.append_event(kind, now, data)
            self.events.append(("B", now, pct))
        elif pct > self.cfg.low_battery_pct + 5:
            self.low_batt = False

    def _budget(self, now, ch):
        b = self.budget
        if not ch or b is None:
            return
        left = b.left_min if 0 <= b.left_min < 65535 else 65535  # its u16 (unknown: the cap)
        E = _events()
        if ch & 1:  # budget.CH_LEVEL: the plan degrades (or recovers), stored for the server
            p = self.planner
            p.slow, p.up_x, p.scan_x = b.fix_x, b.upload_x, b.scan_x
            kind, data = E.encode(E.Power(now, E.POWER_LEVEL, b.level, left))
            self.store.append_event(kind, now, data)
            self.events.append(("D", now, b.level, left))
        if ch & 6:  # CH_LOW | CH_CRITICAL: the wearer is told, and the server at once
            what = E.POWER_CRITICAL if ch & 4 else E.POWER_LOW
            self.wearer = what
            kind, data = E.encode(E.Power(now, what, b.level, left))
            self._alert(now, self.store.append_event(kind, now, data)[0])
            self.events.append(("W", now, what, left))
            self.plan(now)

    def tamper(self, now, kind):
        E = _events()
        code = E.TAMPER_CODES.get(kind, E.TAMPER_UNKNOWN)
        kind, data = E.encode(E.Tamper(now, code))
        seq = self.store.append_event(kind, now, data)[0]
        self.events.append(("T", now, code))
        self._alert(now, seq)
        self.plan(now)

    def link(self, now, up):
        self.link_up = up
        self.events.append(("K", now, 1 if up else 0))
        if up and self.alert_unsent:  # an alert waited for the link: out now
            self.planner.alert(now)
            self.plan(now)

    def _zone_alerts(self, now, alerts):
        for a in alerts:
            if a.kind in self.stored_alerts:  # for the server: durable first, then out at once
                kind, data = _events().encode(a)
                self._alert(now, self.store.append_event(kind, a.t, data)[0])
            ev = ("A", now, a.zone, a.kind, a.zkind, a.rule, a.t, len(a.evidence), a.secs)
            self.events.append(ev)

    # ---- uplink -------------------------------------------------------------------------
    def upload(self, now):
        self.planner.uploaded(now)
        if not self.link_up:
            self.events.append(("U", now, 0, 0))
            return
        if self.uplink is not None:  # an external client: the shell sends, replies later
            self.uplink_request = self.uplink.request(now)
            return
        self.store.flush()
        # Store.read stops at a segment it cannot read (or decode for lack of memory) and says
        # so; such a batch is sent but not acknowledged, and the next upload tries again.
        failed = None
        n = 0
        last = self.acked
        while failed is None:
            # Small batches, each dropped before the next is read: on an ESP32 without PSRAM
            # two batches of 64 fixes and the segment bytes fragment the heap until reads fail.
            recs, failed = self.store.read(last + 1, UPLOAD_BATCH)
            if not recs:
                break
            n += len(recs)
            last = recs[-1][0]
            recs = None
        if failed is not None:
            self.events.append(("U", now, 2, n))
            return
        self._acked(now, last, n)

    def _acked(self, now, last, n):
        self.acked = last
        self.store.ack(last)
        self.events.append(("U", now, 1, n))

    def uplink_reply(self, now, body):
        """The server's answer to uplink_request (an external uplink client): the client
        returns the acknowledged sequence number it verified, or None (refused)."""
        self.uplink_request = None
        acked = self.uplink.on_reply(now, body)
        if acked is None or acked < self.acked:
            self.events.append(("U", now, 2, 0))
            self._retry_alert(now, getattr(self.uplink, "backoff", 0))
        else:
            self._acked(now, acked, acked - self.acked)
            if getattr(self.uplink, "drain", False):
                self.planner.alert(now)  # a backlog: the next batch at once, oldest first
        self.plan(now)

    def uplink_failed(self, now):
        self.uplink_request = None
        wait = self.uplink.on_failure(now)
        self.events.append(("U", now, 0, 0))
        self._retry_alert(now, wait)
        self.plan(now)

    def _retry_alert(self, now, wait):
        if self.alert_unsent and wait:  # an alert is retried on the client's back-off
            p = self.planner
            if now + wait < p.next_upload:
                p.next_upload = now + wait

    # ---- carrying out the planner's decisions ---------------------------------------
    def plan(self, now):
        p = self.planner
        p.search_due(now)
        if p.give_up(now):
            if not self.lost:
                self.lost = True
                if self.zones is None:  # else the monitor decides loss of location (its rule)
                    # no monitor, no Alert record: EV_LOC_LOST without data
                    self._alert(now, self.store.append_event(R.EV_LOC_LOST, now)[0])
                self.events.append(("L", now))
            if self.zones is not None:
                self._zone_alerts(now, self.zones.on_no_fix(now))
        if p.upload_due(now) and self.uplink_request is None:
            self.upload(now)
        mode = p.gnss_mode(now)
        pw = self.power
        if pw is not None and mode != self.asked:
            self.asked = mode
            self.events.append(("M", now, mode))
            pw.request(_ms(now), mode)
        self.gnss_mode = mode
        on = mode != GNSS_OFF
        if on != self.gnss_on:
            self.gnss_on = on
            self.events.append(("G", now, 1 if on else 0))
        if p.scan(now, self.want_scan):
            self.want_scan = self.ble_up = True
        self.scan_ms = p.scan_ms
        self.wake_at = p.wake_time(now, self.store.flush_at())
        if pw is None:
            self.gnss_listen = on
            return
        b = self.budget
        if b is not None:
            b.held = self.held  # the sleep rule's RAM part, for the budget's projection
            w = b.next_check(now)
            if w < self.wake_at:
                self.wake_at = w
        while True:
            a = pw.pop()
            if a is None:
                break
            self.gnss_actions.append(a)
        # epochs are wanted while searching and while the state machine waits for a reply
        self.gnss_listen = p.listening(now) or pw.busy
        if pw.busy:
            self.wake_at = now + 1
