# The tag adapter: the simulator's stand-in for the device shell's main loop. It feeds the core
# (NmeaReader -> FixFilter -> Store) with what the world delivers and answers with what the tag
# wants next. Portable: the same file runs under CPython and inside MicroPython (lockstep driver).
#
# Inputs (the shell calls these with the virtual time `now`, integer seconds since 2000):
#   wake(now)                      the wake time the tag asked for has come
#   uart(now, chunk), uart_idle(now)   GNSS bytes; the line went quiet (end of the epoch burst)
#   scan_result(now, addr, rssi, adv), scan_done(now)   one BLE advertisement; the scan ended
#   battery(now, pct), tamper(now, kind), link(now, up)
#   victim(now, lat, lon, acc_dm)  the victim's position, brought by the uplink
# Outputs (read after each call):
#   gnss_on      the GNSS rail should be powered
#   want_scan    a BLE scan should run now for scan_ms (the shell reports each advertisement
#                at the second it arrives, then scan_done at the end)
#   wake_at      when to call wake() if nothing else happens first (the GNSS off: deep sleep)
#   events       what the tag did, as tuples; the shell drains them with take_events()
# Events: ("F", now, t, lat, lon, acc_dm, sats, seq) fix stored; ("R", now, t) fix refused by the
#   filter; ("G", now, on) GNSS power; ("U", now, status, n) upload: 1 sent and acknowledged,
#   0 no link, 2 sent but a segment was unreadable (not acknowledged); ("S", now, addr, rssi)
#   scan result; ("A", now, zone, kind, zkind, rule, t, evidence count) a tagcore.zones Alert;
#   ("P", now, beacon, kind, ...) a proximity decision; ("T", now, code) tamper; ("B", now, pct)
#   low battery; ("L", now) a fix search timed out; ("K", now, up) link state.
#
# HOOK POINTS (TagAdapter(..., zones, proximity); None: a plain tracker, scanning every
# scan_interval_s if set):
#   zones      tagcore.zones.ZoneMonitor: on_fix(fix, now) per accepted fix, on_no_fix(now) per
#              receiver epoch without one (and when a search gives up), wanted_interval(now)
#              caps the fix interval. Alerts the store keeps (alert_event: EV_ZONE, EV_LOC_LOST)
#              are appended and go out with an upload at once (or when the link comes back);
#              approach and location warnings are for the wearer (reported, not stored).
#   proximity  tagcore.proximity.Proximity: on_scan(now, addr, rssi, adv), on_scan_end(now),
#              on_fix(fix, now), next_scan(now) -> (start, duration_ms), urgent() -> scan and
#              fix more often, pop_event() -> decision tuple or None (EV_PROXIMITY, "P").
#
# ALL "what next and when" decisions are in plan(): the later core scheduler (issue: scheduling
# brain and power budget) replaces that one method.
from tagcore import record as R
from tagcore.fixfilter import FixFilter
from tagcore.nmea import NmeaReader
from tagcore.store import Store

NEVER = 1 << 62
SCAN_MS = 2000  # a scan without the proximity core: window = interval, 2 s
URGENT_FIX_S = 20  # the fix interval while the proximity core says a beacon may be near
K_NEAR = 2  # tagcore.proximity kinds that are alerts: go out at once
K_GNSS_IN = 6
UPLOAD_BATCH = 16  # records read from the store at a time while uploading
TAMPER_CODES = {"strap_cut": 1, "case_open": 2, "removed": 3}


class TagConfig:
    def __init__(
        self,
        fix_interval_s=60,
        max_search_s=120,
        scan_interval_s=0,
        upload_interval_s=900,
        low_battery_pct=15,
    ):
        self.fix_interval_s = fix_interval_s
        self.max_search_s = max_search_s
        self.scan_interval_s = scan_interval_s
        self.upload_interval_s = upload_interval_s
        self.low_battery_pct = low_battery_pct


class TagAdapter:
    def __init__(self, cfg, fs, now, zones=None, proximity=None):
        self.cfg = cfg
        self.reader = NmeaReader()
        self.filter = FixFilter()
        self.store = Store(fs, now)
        self.zones = zones
        self.proximity = proximity
        self.events = []
        self.gnss_on = False
        self.want_scan = False
        self.wake_at = now
        self.search_from = -1  # when the current fix search began; -1: not searching
        self.next_fix = now
        self.next_scan = now if cfg.scan_interval_s > 0 or proximity is not None else NEVER
        self.scan_ms = SCAN_MS
        if proximity is not None:  # imported only when used: the module costs heap
            from tagcore.proximity import encode_event

            self.encode_event = encode_event
        if zones is not None:
            from tagcore.zones import alert_event

            self.alert_event = alert_event
        self.alert_unsent = False  # an alert is stored but no upload has taken it yet
        self.epoch_fix = False  # the current receiver epoch gave an accepted fix
        self.next_upload = now + cfg.upload_interval_s
        self.link_up = True
        self.acked = 0
        self.lost = False  # a search timed out and no fix came since (EV_LOC_LOST logged once)
        self.low_batt = False
        self.fixes = 0
        self.plan(now)

    def take_events(self):
        ev = self.events
        self.events = []
        return ev

    # ---- inputs -------------------------------------------------------------------------
    def wake(self, now):
        self.store.tick(now)
        self.plan(now)

    def uart(self, now, chunk):
        if self.reader.feed(chunk):
            self._drain(now)

    def uart_idle(self, now):
        if self.reader.flush():
            self._drain(now)
        if self.zones is not None and not self.epoch_fix and self.search_from >= 0:
            self._zone_alerts(now, self.zones.on_no_fix(now))  # the receiver is on: no fix
        self.epoch_fix = False
        self.plan(now)

    def _drain(self, now):
        while True:
            f = self.reader.pop()
            if f is None:
                return
            if not self.filter.check(f):
                if f.quality:  # a fix the filter refused (no-fix epochs are only counted)
                    self.events.append(("R", now, f.t))
                continue
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
            if self.search_from >= 0:  # after the cores: this fix may change the interval
                self.search_from = -1
                self.next_fix = now + self.interval(now)

    def scan_result(self, now, addr, rssi, adv=b""):
        self.events.append(("S", now, addr, rssi))
        if self.proximity is not None:
            self.proximity.on_scan(now, addr, rssi, adv)
            self._prox_events(now)
            if self.next_upload <= now:  # an alert: out now, not when the scan ends
                self.plan(now)

    def scan_done(self, now):
        self.want_scan = False
        if self.proximity is not None:
            self.proximity.on_scan_end(now)
            self._prox_events(now)
        else:
            self.next_scan = now + self.cfg.scan_interval_s
        self.plan(now)

    def _prox_events(self, now):
        encode_event = self.encode_event
        while True:
            ev = self.proximity.pop_event()
            if ev is None:
                return
            self.store.append_event(R.EV_PROXIMITY, ev[0], encode_event(ev))
            self.events.append(("P", now, ev[2], ev[1], ev[3], ev[4], ev[5]))
            if ev[1] == K_NEAR or ev[1] == K_GNSS_IN:
                self.next_upload = now  # an alert goes out at once

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
        self.store.append_event(R.EV_TAMPER, now, bytes([code]))
        self.events.append(("T", now, code))
        self.next_upload = now  # report it at once (plan() uploads)
        self.plan(now)

    def link(self, now, up):
        self.link_up = up
        self.events.append(("K", now, 1 if up else 0))
        if up and self.alert_unsent:  # an alert waited for the link: out now
            self.next_upload = now
            self.plan(now)

    def _zone_alerts(self, now, alerts):
        for a in alerts:
            ev = self.alert_event(a)
            if ev is not None:  # for the server: durable first, then out at once
                self.store.append_event(ev[0], a.t, ev[1])
                self.next_upload = now
                self.alert_unsent = True
            self.events.append(("A", now, a.zone, a.kind, a.zkind, a.rule, a.t, len(a.evidence)))

    # ---- uplink -------------------------------------------------------------------------
    def upload(self, now):
        self.next_upload = now + self.cfg.upload_interval_s
        if not self.link_up:
            self.events.append(("U", now, 0, 0))
            return
        self.store.flush()
        # Store.read stops at a segment it cannot read (or decode for lack of memory) and says
        # so: what it returned may be acknowledged, the rest waits for the next upload.
        failed = None
        n = 0
        last = self.acked
        while True:
            # Small batches, each dropped before the next is read: on an ESP32 without PSRAM
            # two batches of 64 fixes and the segment bytes fragment the heap until reads fail.
            recs, failed = self.store.read(last + 1, UPLOAD_BATCH)
            if not recs:
                break
            n += len(recs)
            last = recs[-1][0]
            recs = None
            if failed is not None:
                break
        if failed is not None:
            self.events.append(("U", now, 2, n))
            return
        self.acked = last
        self.store.ack(last)
        self.alert_unsent = False
        self.events.append(("U", now, 1, n))

    # ---- the one place that decides what next and when ----------------------------------
    def interval(self, now):
        iv = self.cfg.fix_interval_s
        if self.proximity is not None and self.proximity.urgent() and URGENT_FIX_S < iv:
            iv = URGENT_FIX_S
        if self.zones is not None:
            w = self.zones.wanted_interval(now)
            if w is not None and w < iv:
                iv = w
        return iv

    def plan(self, now):
        if self.search_from < 0 and now >= self.next_fix:
            self.search_from = now  # start a fix search: the receiver goes on
        if self.search_from >= 0 and now - self.search_from >= self.cfg.max_search_s:
            self.search_from = -1  # give up this sample: save the battery
            self.next_fix = now + self.interval(now)
            if not self.lost:
                self.lost = True
                if self.zones is None:  # else the monitor decides loss of location (its rule)
                    self.store.append_event(R.EV_LOC_LOST, now)
                self.events.append(("L", now))
            if self.zones is not None:
                self._zone_alerts(now, self.zones.on_no_fix(now))
        if now >= self.next_upload:  # due, or brought forward by an alert or tamper
            self.upload(now)
        on = self.search_from >= 0
        if on != self.gnss_on:
            self.gnss_on = on
            self.events.append(("G", now, 1 if on else 0))
        if self.proximity is not None and not self.want_scan:
            self.next_scan, self.scan_ms = self.proximity.next_scan(now)
        if now >= self.next_scan:
            self.want_scan = True
        # While searching, the receiver's epochs drive the tag (uart_idle); only the give-up
        # time needs a wake. Otherwise the next fix search does.
        nxt = self.next_fix if self.search_from < 0 else self.search_from + self.cfg.max_search_s
        if self.next_scan < nxt:
            nxt = self.next_scan
        if self.next_upload < nxt:
            nxt = self.next_upload
        if self.store.buf:
            t = self.store.buf_t + self.store.max_age
            if t < nxt:
                nxt = t
        self.wake_at = nxt if nxt > now else now + 1
