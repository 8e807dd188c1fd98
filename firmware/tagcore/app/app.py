# TagApp: the tag's application, driven by the device shell and the simulator alike. It feeds
# the core (NmeaReader -> FixFilter -> Store, the zone and proximity cores) with what the shell
# delivers and answers with what the tag wants next; the one Planner (below) decides.
#
# Inputs (the shell calls these with `now`, integer seconds since 2000):
#   wake(now)                      the wake time the tag asked for has come
#   uart(now, chunk), uart_idle(now)   GNSS bytes; the line went quiet (end of the epoch burst)
#   scan_result(now, addr, rssi, adv), scan_done(now)   one BLE advertisement; the scan ended
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
#   scan result; ("A", now, zone, kind, zkind, rule, t, evidence count) a tagcore.zones Alert;
#   ("P", now, beacon, kind, ...) a proximity decision; ("T", now, code) tamper; ("B", now, pct)
#   low battery; ("L", now) a fix search timed out; ("K", now, up) link state.
#
# Cores (TagApp(cfg, fs, now, zones, proximity); None: a plain tracker):
#   zones      tagcore.zones.ZoneMonitor: on_fix, on_no_fix, wanted_interval (the planner's cap),
#              nearest_dm (the drive-through guard); stored alerts go out at once.
#   proximity  tagcore.proximity.Proximity: on_scan, on_scan_end, on_fix, next_scan, urgent,
#              pop_event; K_NEAR / K_GNSS_IN go out at once.
#   uplink     None: the store is read and acknowledged at once (the simulator's loopback);
#              else an object with tagcore.uplink's UplinkClient calls request(now) -> body or
#              None, on_reply(now, body) -> acknowledged seq or None, on_failure(now).
#
# Every alert the tag stores (zone, loss of location, proximity, tamper) raises alert_seq: it
# goes out at the next plan() with a link, and the moment the link returns if it was down.
# Data-minimising mode (cfg.minimise): no continuous trail. Fixes feed the cores but are not
# stored; the evidence the rules need is inside the zone and proximity events themselves.
from tagcore import record as R
from tagcore.compat import const
from tagcore.fixfilter import FixFilter
from tagcore.nmea import NmeaReader
from tagcore.store import Store

# ---- the planner ----------------------------------------------------------------------
# The one planner: every "what next and when" decision of the tag. Sans-I/O: `now` is an
# argument; the app (tagcore.app.app) carries out what it decides.
#
#   p = Planner(cfg, now, zones=None, proximity=None)
#   p.search_due(now)        start a fix search if one is due (True: the receiver goes on)
#   p.give_up(now)           True once a search has run max_search_s without a fix
#   p.fix_taken(now, fix)    an accepted fix: the search ends, the next one is scheduled
#   p.gnss_mode()            the receiver power decision (today GNSS_OFF or GNSS_ON)
#   p.upload_due(now)        an upload is due (or was brought forward by an alert)
#   p.uploaded(now)          an upload was tried: the next regular one is scheduled
#   p.alert(now)             an alert must go out: the upload is brought forward to now
#   p.scan(now, scanning)    whether a BLE scan should run now (and p.scan_ms)
#   p.wake_time(now, flush_at)   when to wake the app if nothing else happens first
# With zones and cfg.guard_kmh > 0 the drive-through guard (guard.py) caps the interval too.
NEVER = 1 << 62
SCAN_MS = 2000  # a scan without the proximity core: window = interval, 2 s
URGENT_FIX_S = 20  # the fix interval while the proximity core says a beacon may be near

# Receiver power decisions. The GNSS room (tagcore/gnss) adds power-save modes here; the app
# hands the mode to the shell, which today only knows off and on.
GNSS_OFF = const(0)
GNSS_ON = const(1)


class Planner:
    def __init__(self, cfg, now, zones=None, proximity=None):
        self.cfg = cfg
        self.zones = zones
        self.proximity = proximity
        self.search_from = -1  # when the current fix search began; -1: not searching
        self.next_fix = now
        self.next_scan = now if cfg.scan_interval_s > 0 or proximity is not None else NEVER
        self.scan_ms = SCAN_MS
        self.uploaded(now)  # the first regular upload (next_upload)
        self.last_fix = None  # the latest accepted fix (speed and position for the guard)
        self.guard = None  # the drive-through guard (guard.py), imported only when configured
        if zones is not None and cfg.guard_kmh > 0 and hasattr(zones, "nearest_dm"):
            from tagcore.app.guard import guard

            self.guard = guard

    # ---- fixes ------------------------------------------------------------------------------
    def interval(self, now, guarded=True):
        iv = self.cfg.fix_interval_s
        if self.proximity is not None and self.proximity.urgent() and URGENT_FIX_S < iv:
            iv = URGENT_FIX_S
        if self.zones is not None:
            w = self.zones.wanted_interval(now)
            if w is not None and w < iv:
                iv = w
            if guarded and self.guard is not None and self.last_fix is not None:
                g = self.guard(self.zones, self.cfg, self.last_fix, iv)
                if g < iv:
                    iv = g
        return iv

    def search_due(self, now):
        if self.search_from < 0 and now >= self.next_fix:
            self.search_from = now  # start a fix search: the receiver goes on
            return True
        return False

    def give_up(self, now):
        if self.search_from >= 0 and now - self.search_from >= self.cfg.max_search_s:
            self.search_from = -1  # give up this sample: save the battery
            # Without a fresh position the guard has nothing to go on (indoors, a tunnel):
            # the normal schedule, and the zone core's loss-of-location rule, take over.
            self.next_fix = now + self.interval(now, False)
            return True
        return False

    def fix_taken(self, now, fix):
        self.last_fix = fix
        if self.search_from >= 0:  # after the cores: this fix may change the interval
            iv = self.interval(now)
            if iv > 0:
                self.search_from = -1
                self.next_fix = now + iv
            else:  # the guard: within reach of a zone the receiver stays on
                self.search_from = now

    def gnss_mode(self):
        return GNSS_ON if self.search_from >= 0 else GNSS_OFF

    # ---- uploads ----------------------------------------------------------------------------
    def upload_due(self, now):
        return now >= self.next_upload

    def uploaded(self, now):
        iv = self.cfg.upload_interval_s
        if self.cfg.upload_policy == 1:  # config.UP_ALERTS_ONLY: a heartbeat, alerts at once
            iv *= 4  # config.HEARTBEAT_X
        self.next_upload = now + iv

    def alert(self, now):
        self.next_upload = now

    # ---- scans and waking ---------------------------------------------------------------
    def scan(self, now, scanning):
        if self.proximity is not None and not scanning:
            self.next_scan, self.scan_ms = self.proximity.next_scan(now)
        return now >= self.next_scan

    def scan_ended(self, now):
        if self.proximity is None:
            self.next_scan = now + self.cfg.scan_interval_s

    def wake_time(self, now, flush_at):
        # While searching, the receiver's epochs drive the tag (uart_idle); only the give-up
        # time needs a wake. Otherwise the next fix search does.
        nxt = self.next_fix if self.search_from < 0 else self.search_from + self.cfg.max_search_s
        if self.next_scan < nxt:
            nxt = self.next_scan
        if self.next_upload < nxt:
            nxt = self.next_upload
        if flush_at is not None and flush_at < nxt:
            nxt = flush_at
        return nxt if nxt > now else now + 1


# ---- the app --------------------------------------------------------------------------
K_NEAR = 2  # tagcore.proximity kinds that are alerts: go out at once
K_GNSS_IN = 6
UPLOAD_BATCH = 16  # records read from the store at a time while uploading
TAMPER_CODES = {"strap_cut": 1, "case_open": 2, "removed": 3}


class TagApp:
    def __init__(self, cfg, fs, now, zones=None, proximity=None, uplink=None, rtc=None):
        self.cfg = cfg
        self.reader = NmeaReader()
        self.filter = FixFilter()
        self.store = Store(fs, now, rtc=rtc)  # rtc: tagcore.rtcstate bytes after a deep sleep
        t = self.store.newest_fix_t()
        if t is not None:  # a date before the last stored fix is refused, not unrolled
            self.reader.raise_floor(t)
        self.zones = zones
        self.proximity = proximity
        self.uplink = uplink
        self.planner = Planner(cfg, now, zones, proximity)
        self.events = []
        self.gnss_on = False
        self.gnss_mode = GNSS_OFF
        self.want_scan = False
        self.scan_ms = self.planner.scan_ms
        self.uplink_request = None
        self.wake_at = now
        if proximity is not None:  # imported only when used: the module costs heap
            from tagcore.proximity import encode_event

            self.encode_event = encode_event
        if zones is not None:
            from tagcore.zones import alert_event

            self.alert_event = alert_event
        self.alert_seq = 0  # the newest stored alert's sequence number
        self.epoch_fix = False  # the current receiver epoch gave an accepted fix
        self.link_up = True
        self.acked = 0
        self.lost = False  # a search timed out and no fix came since (EV_LOC_LOST logged once)
        self.low_batt = False
        self.fixes = 0
        self.plan(now)

    @property
    def alert_unsent(self):
        """An alert is stored that no acknowledged upload has taken yet."""
        return self.alert_seq > self.acked

    def take_events(self):
        ev = self.events
        self.events = []
        return ev

    # ---- inputs -------------------------------------------------------------------------
    def wake(self, now):
        self.store.tick(now)
        self.plan(now)

    def uart(self, now, chunk, n=-1):
        if self.reader.feed(chunk, n):  # n: bytes of chunk to take (-1: all; a reused buffer)
            self._drain(now)

    def uart_idle(self, now):
        if self.reader.flush():
            self._drain(now)
        if self.zones is not None and not self.epoch_fix and self.planner.search_from >= 0:
            self._zone_alerts(now, self.zones.on_no_fix(now))  # the receiver is on: no fix
        self.epoch_fix = False
        self.plan(now)

    def _drain(self, now):
        while True:
            f = self.reader.pop()
            if f is None:
                return
            prev = self.filter.last
            if not self.filter.check(f):
                if f.quality:  # a fix the filter refused (no-fix epochs are only counted)
                    self.events.append(("R", now, f.t))
                continue
            if prev is not None:  # the older of the last two: one outlier never raises it
                self.reader.raise_floor(prev.t if prev.t < f.t else f.t)
            seq = 0
            if not self.cfg.minimise:  # data-minimising: no trail kept or sent
                seq = self.store.append_fix(f, now)[0]
            self.fixes += 1
            self.lost = False
            self.epoch_fix = True
            self.events.append(("F", now, f.t, f.lat, f.lon, f.acc_dm, f.sats, seq))
            if self.zones is not None:
                self._zone_alerts(now, self.zones.on_fix(f, now))
            if self.proximity is not None:
                self.proximity.on_fix(f, now)
                self._prox_events(now)
            self.planner.fix_taken(now, f)  # after the cores: this fix may change the interval

    def scan_result(self, now, addr, rssi, adv=b""):
        self.events.append(("S", now, addr, rssi))
        if self.proximity is not None:
            self.proximity.on_scan(now, addr, rssi, adv)
            self._prox_events(now)
            if self.planner.upload_due(now):  # an alert: out now, not when the scan ends
                self.plan(now)

    def scan_done(self, now):
        self.want_scan = False
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
            seq = self.store.append_event(R.EV_PROXIMITY, ev[0], encode_event(ev))[0]
            self.events.append(("P", now, ev[2], ev[1], ev[3], ev[4], ev[5]))
            if ev[1] == K_NEAR or ev[1] == K_GNSS_IN:
                self._alert(now, seq)

    def _alert(self, now, seq):
        self.alert_seq = seq
        self.planner.alert(now)  # out at the next plan(), or when the link returns

    def victim(self, now, lat, lon, acc_dm):
        """The victim's position (microdegrees, accuracy dm) as the uplink brings it."""
        if self.proximity is not None:
            self.proximity.on_victim_position(now, lat, lon, acc_dm, 0)
            self._prox_events(now)
        self.plan(now)

    def battery(self, now, pct):
        if pct <= self.cfg.low_battery_pct and not self.low_batt:
            self.low_batt = True
            self.store.append_event(R.EV_LOW_BATTERY, now, bytes([pct]))
            self.events.append(("B", now, pct))
        elif pct > self.cfg.low_battery_pct + 5:
            self.low_batt = False

    def tamper(self, now, kind):
        code = TAMPER_CODES.get(kind, 0)
        seq = self.store.append_event(R.EV_TAMPER, now, bytes([code]))[0]
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
            ev = self.alert_event(a)
            if ev is not None:  # for the server: durable first, then out at once
                self._alert(now, self.store.append_event(ev[0], a.t, ev[1])[0])
            self.events.append(("A", now, a.zone, a.kind, a.zkind, a.rule, a.t, len(a.evidence)))

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
        else:
            self._acked(now, acked, acked - self.acked)
        self.plan(now)

    def uplink_failed(self, now):
        self.uplink_request = None
        self.uplink.on_failure(now)
        self.events.append(("U", now, 0, 0))
        self.plan(now)

    # ---- carrying out the planner's decisions ---------------------------------------
    def plan(self, now):
        p = self.planner
        p.search_due(now)
        if p.give_up(now):
            if not self.lost:
                self.lost = True
                if self.zones is None:  # else the monitor decides loss of location (its rule)
                    self._alert(now, self.store.append_event(R.EV_LOC_LOST, now)[0])
                self.events.append(("L", now))
            if self.zones is not None:
                self._zone_alerts(now, self.zones.on_no_fix(now))
        if p.upload_due(now) and self.uplink_request is None:
            self.upload(now)
        self.gnss_mode = p.gnss_mode()
        on = self.gnss_mode != GNSS_OFF
        if on != self.gnss_on:
            self.gnss_on = on
            self.events.append(("G", now, 1 if on else 0))
        if p.scan(now, self.want_scan):
            self.want_scan = True
        self.scan_ms = p.scan_ms
        self.wake_at = p.wake_time(now, self.store.flush_at())
