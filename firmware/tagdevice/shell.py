# The tag's device shell: boot (banner, provisioned files, fallbacks), then the loop that feeds
# the core app (tagcore.app.app.TagApp) and carries out what it asks. docs/device.md.
#
# Each pass of the loop: tamper inputs; the GNSS rail follows app.gnss_on and the UART is
# pumped into the app while it is on; wake() when app.wake_at has come; the battery every
# BATTERY_S; a BLE scan when app.want_scan; an upload over Wi-Fi when app.uplink_request is
# set; events logged and alerts signalled to the wearer; the watchdog fed if the pass was
# healthy; then sleep: light sleep in short steps while the receiver searches or a scan runs,
# else until app.wake_at, as deep sleep (state in RTC memory) when nothing in RAM must survive.
import machine
from tagcore.app.app import TagApp

from tagdevice import clock, health, log

TYPE_CHECKING = False
if TYPE_CHECKING:  # the type checker only: MicroPython has no typing module
    from typing import Any  # noqa: F401 (used in type comments)

VERSION = "0.1.0"
CAUSES = {1: "pwron", 2: "hard", 3: "wdt", 4: "deepsleep", 5: "soft"}
SEARCH_POLL_MS = 250  # the 2 KB UART buffer holds 2 s at 9600 baud
BATTERY_S = 600
LINK_RETRY_S = 300
ALERT_RETRY_S = 60  # while an alert waits for the link
MAX_EXCHANGES = 16  # uplink exchanges in one go (a backlog goes out in 4 KB batches)
SAFE_RETRY_S = 6 * 3600  # a healthy safe-mode run tries normal mode again after this
RTC_MAGIC = b"OD2"
# OD2 | tamper u8 | ctr u32 | acked u32 | next_upload u32 | flags u8 | crc u32
RTC_HEAD = 21
RTC_LOW_BATT = 1  # flags: the low battery is stored and signalled (once a discharge)


def _u32(b, i):
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)


def _put32(b, i, v):
    for k in range(4):
        b[i + k] = (v >> (8 * k)) & 0xFF


def _cold_s(board):
    # the profile's worst field cold TTFF, as tagcore.gnss.profile.field_cold_s (not loaded
    # for it: the module costs heap); 0 without one
    try:
        return int(max(board["gnss"]["ttff_field_s"]["cold"]))
    except (KeyError, TypeError, ValueError):
        return 0


def rtc_head(mem):
    """(tamper bits, ctr, acked, next_upload, rtcstate bytearray, flags) from RTC memory, or
    None."""
    import binascii

    if len(mem) < RTC_HEAD or bytes(mem[0:3]) != RTC_MAGIC:
        return None
    if binascii.crc32(memoryview(mem)[3:17]) & 0xFFFFFFFF != _u32(mem, 17):
        return None
    return mem[3], _u32(mem, 4), _u32(mem, 8), _u32(mem, 12), bytearray(mem[RTC_HEAD:]), mem[16]


class AppUplink:
    """TagApp's uplink seam over tagcore.uplink's UplinkClient: on_reply gives the acknowledged
    seq (the client has verified it and truncated the store) or None."""

    def __init__(self):
        self.client = None  # type: Any

    def request(self, now):
        return None if self.client is None else self.client.request(now)

    def on_reply(self, now, body):
        from tagcore.uplink.client import ACKED

        return self.client.acked if self.client.on_reply(now, body) == ACKED else None

    def on_failure(self, now):
        self.client.on_failure(now)


class GnssFeed:
    """What GnssPump feeds (a reader's feed / flush / pending), handed to the app at `now`."""

    def __init__(self, app):
        self.app = app
        self.now = 0

    def feed(self, buf, n=-1):
        self.app.uart(self.now, buf, n)

    def flush(self):
        self.app.uart_idle(self.now)

    def pending(self):
        return 0  # the app drains its reader's fixes as it is fed: none wait here


class ScanFeed:
    """What BleScanner.drain feeds (on_scan / on_scan_end / on_lost), handed to the app.
    `ended`: the scan running has ended (the app may want the next one at once)."""

    def __init__(self, app):
        self.app = app
        self.ended = False

    def on_scan(self, now, addr, rssi, adv):
        self.app.scan_result(now, bytes(addr), rssi, bytes(adv))

    def on_scan_end(self, now):
        self.ended = True
        self.app.scan_done(now)

    def on_lost(self, now, n):
        # reports the scanner's ring had no room for (a crowd, a flood): the app stores it
        self.app.scan_lost(now, n)


def banner(board, cause, safe):
    import sys

    mode = "safe" if safe else "normal"
    mpy = sys.implementation._mpy  # type: ignore[attr-defined]
    print(f"opentag-boot version={VERSION} board={board} mpy={mpy} cause={cause} mode={mode}")


class Shell:
    def __init__(self, board, safe, cause, board_why=None, room=None):
        now = clock.now()
        self.safe = safe
        self.cause = cause
        self.board = board
        self.problems = []  # type: list  # (file, reason): reported to the server as status events
        if board_why is not None and board_why != "missing":
            self.problems.append(("board.json", board_why))
        head = None
        if cause == "deepsleep":
            rtc = machine.RTC()
            head = rtc_head(rtc.memory())
            rtc.memory(b"")  # single use: a later reset must not resume this state again
        # The reply buffer first, while the heap is whole: after boot's parsing and unloading
        # the heap has plenty free but in pieces (a 5 KB block failed at 320 KB with 84 KB
        # free, bench/bench_device_heap.py); dropped below if there is no uplink. room:
        # main.py's reserve (a list of one bytearray), released before the app is made.
        from tagdevice import uplink_http

        linkbuf = bytearray(uplink_http.HEAD_MAX + uplink_http.REPLY_MAX)
        from tagdevice import prov

        self.cfg = self._cfg(prov, safe)
        zones = prox = None
        if not safe:
            zones = self._take("zones.bin", prov.zones(self.cfg), "no zones enforced")
            table = self._take("beacon.bin", prov.beacon(self.cfg), "no proximity")
            if table is not None:
                from tagcore.proximity.monitor import Proximity

                prox = Proximity(table)
        key = self._take("tag.key", prov.key(), "no uploads")
        srv = self._take("server.json", prov.server(), "no uploads")
        wifi = self._take("wifi.json", prov.wifi(), "no link")
        fs = self._logfs()
        # the log's seals (docs/evidence.md): their key slot lives beside the log
        # the reason goes to the server once per cold boot, not at every wake from deep sleep
        slot, note = prov.key_slot(fs, board.get("mcu", {}).get("seal_partition"))
        if note is not None:  # sealing, but an old key is not erased on this flash
            log.warn("prov", "seal slot: " + note)
            if head is None:
                self.problems.append(("seal.slot", note))
        sealer = self._take(
            "seal.key", prov.sealer(fs, srv and srv[4], slot), "unsealed", report=head is None
        )
        slot = None
        if sealer is None:  # unsealed: the partition slot's module is not kept either
            unload("tagcore.store.keyslot")
        del prov
        unload("tagdevice.prov")  # boot-time only: its heap back for the loop
        self.uplink = AppUplink()
        if room:  # main.py's reserve, given back for the app's and the uplink's buffers
            room.pop()
            import gc

            gc.collect()
        self.app = app = TagApp(
            self.cfg,
            fs,
            now,
            zones,
            prox,
            self.uplink,
            gnss=self._gnss_model(board),
            sealer=sealer,
            rtc=None if head is None else head[4],
            cold_s=_cold_s(board),  # the fixed plan's search cap after a failure
        )
        try:  # the merge's buffers while the heap is whole: a full log must still be thinned
            app.store.reserve_merge()
        except MemoryError:
            log.warn("shell", "no room for the store's merge buffers now: tried at each merge")
        self.link = None  # type: Any
        self.wifi = None  # type: Any
        if key is not None and srv is not None:
            from tagcore.uplink.client import UplinkClient

            from tagdevice.uplink_http import Link

            c = UplinkClient(app.store, srv[4], key)
            if head is not None:
                c.ctr = head[1]
                c.acked = head[2]
            self.uplink.client = c
            self.link = Link(srv[0], srv[1], srv[2], use_tls=srv[3], buf=linkbuf)
        else:  # no uplink: its transport's code back too
            unload("tagdevice.uplink_http")
        del linkbuf
        if head is not None:
            app.acked = head[2]
            app.planner.next_upload = head[3]
            app.low_batt = bool(head[5] & RTC_LOW_BATT)  # not stored and signalled again
        if wifi is not None:
            from tagdevice.wifi import Wifi

            self.wifi = Wifi(wifi[0], wifi[1])
        if self.wifi is None or self.link is None:
            app.link(now, False)
        for name, why in self.problems:  # the server hears of every refused file
            app.store.append_event(22, now, (f"prov {name} {why}").encode()[:48])
        if safe:
            app.store.append_event(22, now, b"safe mode")
        self._drivers(board, 0 if head is None else head[0])
        self.next_battery = now
        self.retry_at = now + ALERT_RETRY_S
        self.started = now
        self.healthy_since = now
        self.cleared = False
        self.wdt = health.Watchdog()
        self.passes = 0
        z, p, u, w = (
            zones is not None,
            prox is not None,
            self.link is not None,
            self.wifi is not None,
        )
        log.info("shell", f"ready: zones={z:d} proximity={p:d} uplink={u:d} wifi={w:d}")

    def _cfg(self, prov, safe):
        cfg, why = prov.config()
        if safe:
            from tagcore.app import config as C

            cfg = C.TagConfig()
            C.unload()
            log.warn("prov", "safe mode: configuration defaults, no zones, no proximity")
        elif why is None:
            log.info("prov", "config.bin ok")
        elif why == "missing":
            log.warn("prov", "config.bin missing: defaults")
        elif why is not None:
            bad = "bad_" in why or "malformed" in why
            (log.error if bad else log.warn)(
                "prov", "config.bin: {}{}".format(why, ": defaults" if bad else "")
            )
            self.problems.append(("config.bin", why))
        return cfg

    def _logfs(self):
        import os

        from tagcore.store.osfs import OsFs

        try:
            os.mkdir("/log")
        except OSError:
            pass
        return OsFs("/log")

    def _take(self, name, res, fallback, report=True):
        value, why = res
        if why is None:
            log.info("prov", f"{name} ok")
        elif why == "missing":
            log.warn("prov", f"{name} missing: {fallback}")
        else:
            log.error("prov", f"{name} refused ({why}): {fallback}")
            if report:
                self.problems.append((name, why))
        return value

    # ---- drivers ---------------------------------------------------------------------------
    def _drivers(self, b, tamper_bits):
        pins = b.get("pins", {})
        gp = b.get("gnss_power") or {}
        u = pins["gnss_uart"]
        from tagdevice.gnssuart import GnssPump, open_uart

        self.feed = GnssFeed(self.app)
        self.pump = None
        try:
            uart = open_uart(u.get("uart", 1), u["rx"], u["tx"], u["baud"])
            self.pump = GnssPump(uart, self.feed)
        except Exception as e:  # safe mode goes on without a receiver; normal mode resets
            if not self.safe:
                raise
            log.error("gnss", f"no UART ({e!r}): running without a receiver")
        self.pmu = None  # type: Any
        self.battery_src = None  # type: Any
        self.rail_pin = None  # type: Any
        if gp.get("method") == "pmu":
            from machine import I2C, Pin

            from tagdevice.pmu import Pmu

            i2c = I2C(0, scl=Pin(pins["i2c"]["scl"]), sda=Pin(pins["i2c"]["sda"]), freq=400000)
            bc = gp.get("backup_charge")
            bc = None if bc is None else (bc["reg"], bc["bit"])
            self.pmu = Pmu(i2c, gp["chip"], gp["i2c_addr"], gp["reg"], gp["bit"], bc)
            self.battery_src = self.pmu
            if "pmu_outputs" in b:  # boot only (the module and the data): heap back for the loop
                from tagdevice import rails

                rails.boot(self.pmu, i2c, b.pop("pmu_outputs"), self.app.store)
                unload("tagdevice.rails")
        elif gp.get("method") == "gpio":
            from machine import Pin

            self.rail_pin = Pin(gp["pin"], Pin.OUT, value=0)
        if "lora_sleep" in b:  # boot only, as the PMU outputs: a radio the tag leaves unused
            from tagdevice import lorasleep

            if not lorasleep.sleep(b.pop("lora_sleep")):
                log.error("lora", "radio not put to sleep: BUSY stayed high")
                self.app.store.append_event(22, clock.now(), b"lora awake")
            unload("tagdevice.lorasleep")
        if self.battery_src is None and "battery_adc" in pins:
            from tagdevice.pmu import AdcBattery

            self.battery_src = AdcBattery(pins["battery_adc"])
        self.rail = None
        self.set_rail(False)  # the power state machine starts from OFF: so does the receiver
        self._gnss_actions_init(gp)
        ins = []
        for kind, key in (("strap_cut", "tamper_strap"), ("case_open", "tamper_case")):
            if key in pins:
                ins.append((kind, pins[key]))
        self.tamper = None
        if ins:
            from tagdevice.tamper import Tamper

            self.tamper = Tamper(ins, tamper_bits)
        else:
            log.warn("tamper", "board has no tamper inputs")
        self.led = self.vib = None
        from machine import Pin

        if "led" in pins:
            self.led = Pin(pins["led"], Pin.OUT, value=1)  # active low (T-Beam)
        if "vibration" in pins:
            self.vib = Pin(pins["vibration"], Pin.OUT, value=0)
        self.scanner = None
        self.scan_feed = None

    # ---- the receiver -------------------------------------------------------------------------
    # The fixed plan: the rail follows app.gnss_on and the UART is pumped while it is on. The
    # model plan (cfg.gnss_plan 1): tagdevice.gnsspower.ModelPlan carries out the power state
    # machine's actions and reads the UART while the app listens; loaded only then.
    def _gnss_model(self, b):
        """TagApp's `gnss` for the model plan, or None: the fixed plan."""
        if self.safe or not self.cfg.gnss_plan:
            return None
        from tagdevice.gnsspower import board_gnss

        return board_gnss(b, self.cfg.battery_mah)

    def _gnss_actions_init(self, gp):
        self.gnss = None  # type: Any
        if self.app.power is None or self.pump is None:
            return
        from tagdevice.gnsspower import ModelPlan

        i2c = self.pmu.i2c if self.pmu is not None else None
        self.gnss = ModelPlan(self.app, self.pump, self.feed, i2c, gp)
        self.rail = self.gnss.acts.powered

    def _gnss(self, now, ms):
        """The receiver's part of a pass, before the app is woken."""
        if self.gnss is not None:
            self.rail = self.gnss.step(now, ms)
            return
        self.set_rail(self.app.gnss_on)
        if self.rail and self.pump is not None:
            self.feed.now = now
            self.pump.poll(ms)

    def _gnss_rail(self):
        """The end of a pass: the rail (and, in the model plan, the commands) as the app
        wants them now."""
        if self.gnss is not None:
            self.rail = self.gnss.carry_out()
        else:
            self.set_rail(self.app.gnss_on)

    def set_rail(self, on):
        if self.rail == on:
            return
        self.rail = on
        if self.pmu is not None:
            if not self.pmu.gnss_rail(on):
                log.error("pmu", "GNSS rail not switched (I2C error)")
        elif self.rail_pin is not None:
            self.rail_pin.value(1 if on else 0)

    def signal(self):
        """The wearer feels / sees an alert or a warning: 1 s of vibration and LED."""
        v, led = self.vib is not None, self.led is not None
        log.info("signal", f"wearer signalled (vibration {v:d}, led {led:d})")
        if self.vib is not None:
            self.vib.value(1)
        if self.led is not None:
            self.led.value(0)
        clock.sleep_ms(1000)
        if self.vib is not None:
            self.vib.value(0)
        if self.led is not None:
            self.led.value(1)

    # ---- the loop ----------------------------------------------------------------------------
    def run(self):
        while True:
            if self.safe:
                try:
                    ok = self.step()
                except Exception as e:  # safe mode never dies: it logs and goes on
                    log.error("shell", f"safe mode step failed: {e!r}")
                    ok = False
            else:
                ok = self.step()
            if ok:
                self.wdt.feed()
                self.sleep()
            else:  # no busy loop on a failing step; the watchdog decides if it lasts
                machine.lightsleep(1000)

    def step(self):
        app = self.app
        now = clock.now()
        ms = clock.ticks_ms()
        if self.tamper is not None:
            for kind, t in self.tamper.poll(ms) or ():
                log.warn("tamper", f"{kind} at {t}")
                app.tamper(t, kind)
        self._gnss(now, ms)
        if now >= app.wake_at:
            app.wake(now)
        if now >= self.next_battery and self.battery_src is not None:
            self.next_battery = now + BATTERY_S
            p = self.battery_src.battery_pct()
            if p is not None:
                app.battery(now, p)
        self._scan(now)
        if self.link is not None:
            c = self.uplink.client
            if app.alert_seq > c.acked:
                c.alert(app.alert_seq)
            if not app.link_up and now >= self.retry_at:
                self._probe(now)
            n = 0
            while app.uplink_request is not None and n < MAX_EXCHANGES:
                n += 1
                if not self._send(now) or not c.due():
                    break
                app.upload(now)  # more backlog: the next batch at once
        self._events()
        self._gnss_rail()
        self.passes += 1
        if not self.cleared and now - self.started >= health.HEALTHY_S:
            health.clear()
            self.cleared = True
        if self.safe and now - self.started >= SAFE_RETRY_S:
            health.clear()
            log.info("shell", f"safe mode ran {now - self.started} s: trying normal mode")
            machine.reset()
        return now - app.wake_at < 120  # the app is being served (its wake time is not overdue)

    def _scan(self, now):
        app = self.app
        if self.scanner is None and app.want_scan and not self.safe:
            import bluetooth

            from tagdevice.blescan import BleScanner

            ble = bluetooth.BLE()
            ble.active(True)
            self.scanner = BleScanner(ble)
            self.scan_feed = ScanFeed(app)
            self.scanning = False
        feed = self.scan_feed
        if self.scanner is None or feed is None:
            return
        if app.want_scan and not self.scanning:
            self.scanning = True
            feed.ended = False
            self.scanner.start(app.scan_ms)
        if self.scanning:
            self.scanner.drain(feed, now)
            # the scan is over when the stack says so (_IRQ_SCAN_DONE), not when want_scan
            # drops: near the beacon the app wants the next scan at once (back to back)
            if feed.ended:
                self.scanning = False

    def _probe(self, now):
        app = self.app
        if self.wifi is not None and self.wifi.up(feed=self.wdt.feed):
            log.info("wifi", "link back")
            app.link(now, True)
            if app.uplink_request is None:
                self.wifi.down()
        else:
            self.retry_at = now + (ALERT_RETRY_S if app.alert_unsent else LINK_RETRY_S)

    def _send(self, now):
        """One exchange of app.uplink_request over Wi-Fi. True to send the next batch now."""
        from tagdevice.uplink_http import NAMES, OK

        app = self.app
        if self.wifi is None or not self.wifi.up(feed=self.wdt.feed):
            app.uplink_failed(now)
            app.link(now, False)
            self.retry_at = now + (ALERT_RETRY_S if app.alert_unsent else LINK_RETRY_S)
            return False
        code, status, reply = self.link.post(app.uplink_request)
        self.link._count(code)
        self.wdt.feed()
        if code == OK and status == 200:
            c = self.uplink.client
            before = app.acked
            app.uplink_reply(now, reply)
            if app.acked > before or app.acked == c.acked:
                self.wifi.down()
                return c.send_on()  # the core's one rule (tagcore.uplink.client)
            log.warn("uplink", "reply refused")
        else:
            log.warn("uplink", f"failed: {NAMES[code]} http {status}")
            app.uplink_failed(now)
        self.wifi.down()
        return False

    def _events(self):
        alert = False
        for e in self.app.take_events():
            k = e[0]
            if k == "F":
                log.info("fix", "t={} lat={} lon={} acc_dm={} sats={} seq={}".format(*e[2:8]))
            elif k == "A":
                log.warn("zones", "alert zone={} kind={} zkind={} rule={} t={}".format(*e[2:7]))
                alert = True
            elif k == "T":
                log.warn("tamper", f"stored code={e[2]}")
            elif k == "U":
                log.info("uplink", f"status={e[2]} records={e[3]}")
            elif k == "L":
                log.warn("gnss", "no fix: search gave up")
            elif k == "B":  # once a discharge (low_batt survives deep sleep): charge the tag
                log.warn("battery", f"low {e[2]}%")
                alert = True
            elif k == "W":  # the budget's projection: low (4 h left) or critical (1 h)
                how = "critical" if e[2] == 3 else "low"  # tagcore.events.POWER_CRITICAL
                log.warn("battery", f"{how}: {e[3]} min left")
                alert = True
            elif k == "G":
                log.info("gnss", "rail on" if e[2] else "rail off")
            elif k == "K":
                log.info("link", "up" if e[2] else "down")
            elif k == "P":
                log.warn("proximity", f"beacon={e[2]} kind={e[3]}")
            elif k == "M":
                from tagcore.gnss.power import NAMES

                log.info("gnss", f"mode {NAMES[e[2]]}")
            elif k == "I":  # kinds from K_END on are an episode's evidence, not an alert
                from tagcore.gnss.integrity import K_END

                say = log.warn if e[2] < K_END else log.info
                say("gnss", f"integrity kind={e[2]} onset={e[3]}")
        if alert:
            self.signal()

    # ---- sleeping --------------------------------------------------------------------------
    def sleep(self):
        app = self.app
        listen = self.rail if self.gnss is None else self.app.gnss_listen
        busy = listen or (self.scanner is not None and self.scanning)
        if busy or (self.tamper is not None and self.tamper.busy()):
            machine.lightsleep(SEARCH_POLL_MS)
            return
        now = clock.now()
        dt = app.wake_at - now
        if dt <= 0:
            return
        if self.can_deepsleep(now):
            self.deepsleep(dt)
        half = self.wdt.timeout_ms // 2000
        machine.lightsleep(1000 * (dt if dt < half else half))

    def can_deepsleep(self, now):
        """The core's one rule (tagcore.app.app.deep_sleep_ok: nothing in RAM must survive, the
        receiver off, nothing outstanding, long enough), which the simulator charges and the
        budget projects by too; safe mode never deep-sleeps."""
        return not self.safe and self.app.may_deepsleep(now)

    def deepsleep(self, dt):
        import binascii

        from tagcore.store import rtcstate

        app = self.app
        st = app.store
        b = rtcstate.pack(st)
        if b is None or len(b) + RTC_HEAD > rtcstate.RTC_BYTES:
            st.flush()
            b = rtcstate.pack(st)
        head = bytearray(RTC_HEAD)
        head[0:3] = RTC_MAGIC
        head[3] = self.tamper.reported if self.tamper is not None else 0
        c = self.uplink.client
        _put32(head, 4, c.ctr if c is not None else 0)
        _put32(head, 8, app.acked)
        _put32(head, 12, app.planner.next_upload)
        head[16] = RTC_LOW_BATT if app.low_batt else 0
        _put32(head, 17, binascii.crc32(memoryview(head)[3:17]))
        machine.RTC().memory(bytes(head) + (b if b is not None else b""))
        health.clear()
        if self.tamper is not None:
            self.tamper.arm_deepsleep()
        self.set_rail(False)
        log.info("shell", f"deep sleep {dt} s")
        machine.deepsleep(1000 * dt)


def unload(name):
    """Drop a module only boot needs (as tagcore.app.config.unload does)."""
    import sys

    sys.modules.pop(name, None)
    pkg, _, attr = name.rpartition(".")
    p = sys.modules.get(pkg)
    if p is not None and attr in dir(p):
        delattr(p, attr)


def main(room=None):
    from tagdevice import prov

    cause = CAUSES.get(machine.reset_cause(), "other")
    n = health.count_boot(cause == "deepsleep")
    safe = n > health.CRASH_LIMIT
    board, why = prov.board()
    unload("tagcore.board")  # the profile's schema check: boot only
    banner(board["id"] if board is not None else "fallback", cause, safe)
    if board is None:
        (log.warn if why == "missing" else log.error)(
            "prov", f"board.json {why}: fallback board (GNSS UART 16/17, 9600 baud)"
        )
        board = prov.FALLBACK_BOARD
    del prov
    if safe:
        log.error("shell", f"{n} boots without a healthy run: safe mode")
    Shell(board, safe, cause, why, room).run()
