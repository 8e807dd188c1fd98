# The victim's beacon: a small ESP32 MicroPython app (device-only: bluetooth, machine, time).
#
# It advertises, non-connectable, the rolling identifier of tagcore.proximity.beaconid for the
# current interval of its own clock, and changes identifier and BLE address together at every
# interval boundary. Its clock drifts (the ESP32's RC slow clock without a crystal): the tag
# tolerates and learns the skew. The clock is saved to flash every 2 min, so after a power cut the
# beacon resumes from the saved time (late by the outage plus at most 2 min: the tag takes a 10 min
# battery swap as on time) instead of from 2000-01-01. The victim's phone sets it right
# (proximity.phonetime: an authenticated time frame the beacon hears in short listening windows).
#
# On the device: /beacon.key holds the secret (hex, from `opentag beacon keygen`), /main.py is
#     from beacon.app import main
#     main()
import time

import bluetooth
import machine
from tagcore.compat import UNIX_2000, const
from tagcore.proximity import beaconid
from tagcore.proximity.advdata import build_adv
from tagcore.proximity.phonetime import FORMAT as _TIME_FORMAT
from tagcore.proximity.phonetime import FRAME_LEN as _TIME_LEN
from tagcore.proximity.phonetime import PhoneClock

ADV_MS = const(500)  # advertising interval
TX_DBM = const(9)  # transmit power asked of the stack (ESP32: -12 .. +9 dBm)
SAVE_EVERY_S = const(120)  # a power cut costs the outage plus at most this (flash wear: docs)
_ADDR_MODE_NRPA = const(3)
# Listening for the phone's time: a minute after boot (a battery swap: the phone's app is open
# beside it), then 2 s every 30 min (a phone advertising every 100 ms is heard ~20 times).
BOOT_LISTEN_MS = const(60000)
LISTEN_MS = const(2000)
LISTEN_EVERY_S = const(1800)
_IRQ_SCAN_RESULT = const(5)
_IRQ_SCAN_DONE = const(6)
_MAX_LEGACY = const(31)


def now2000():
    """Seconds since 2000-01-01 whatever epoch this port's time.time() counts from."""
    t = time.time()
    return t - UNIX_2000 if time.gmtime(0)[0] == 1970 else t


class Beacon:
    """Advertising state: call update(now) at least once a minute; it rotates identifier and
    address (after a silence) at the moments proximity.beaconid.on_air draws, and says how long
    until the next change."""

    def __init__(
        self, ble, secret, interval_s=beaconid.DEFAULT_INTERVAL_S, adv_ms=ADV_MS, tx_dbm=TX_DBM
    ):
        self.ble = ble
        self.secret = secret
        self.interval_s = interval_s
        self.adv_ms = adv_ms
        self.k = -1
        self.ident = b""
        self.addr = b""
        self.rotations = 0
        # Where the stack takes a fixed random address (config(mac=...)) the derived one is
        # used; otherwise NRPA mode makes the stack draw a fresh address at every rotation.
        self.mac_settable = True
        self.tx_ok = self._config(txpower=tx_dbm)

    def _config(self, **kw):
        try:
            self.ble.config(**kw)
            return True
        except (ValueError, OSError, TypeError):
            return False

    def update(self, now):
        # Identifier k is on the air from a moment drawn from the secret around k's interval,
        # after a silence (proximity.beaconid.on_air): no fixed phase, no old-to-new handover.
        k, until = beaconid.on_air(self.secret, now, self.interval_s)
        if k != self.k:
            if k < 0:
                self.ble.gap_advertise(None)
                self.k = -1
            else:
                self.rotate(k)
        return until - now

    def rotate(self, k):
        ident, addr = beaconid.id_and_addr(self.secret, k)
        ble = self.ble
        ble.gap_advertise(None)  # stop: address and payload change together, never apart
        if not (self.mac_settable and self._config(mac=addr)):
            self.mac_settable = False
            self._config(addr_mode=_ADDR_MODE_NRPA)
        ble.gap_advertise(self.adv_ms * 1000, build_adv(ident), connectable=False)
        self.k = k
        self.ident = ident
        self.addr = addr
        self.rotations += 1


def set_rtc(t):
    """Set the RTC to t (seconds since 2000), in the ESP32 RTC's field order."""
    tm = time.gmtime(t + (UNIX_2000 if time.gmtime(0)[0] == 1970 else 0))
    machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))


class ClockKeeper:
    """Saves the clock to a file every SAVE_EVERY_S; restores it after a power cut. The file
    also keeps the newest phone time taken (PhoneClock.last: a frame replayed after a power
    cut is still stale)."""

    def __init__(self, path="/beacon.clock"):
        self.path = path
        self.saved = 0
        self.phone_t = 0

    def restore(self, now):
        """If the RTC lost the time (it reads before the saved one), set it back to the saved
        time. Returns the (possibly corrected) time."""
        try:
            with open(self.path) as f:
                parts = f.read().split()
            saved = int(parts[0])
            self.phone_t = int(parts[1]) if len(parts) > 1 else 0
        except (OSError, ValueError, IndexError):
            return now
        self.saved = saved
        if now >= saved:
            return now
        set_rtc(saved)
        return saved

    def tick(self, now):
        if now - self.saved >= SAVE_EVERY_S:
            self._save(now)

    def set_from_phone(self, t):
        """The phone's authenticated time t (PhoneClock.offer): set the RTC, save at once."""
        set_rtc(t)
        self.phone_t = t
        self._save(t)

    def _save(self, now):
        try:
            with open(self.path, "w") as f:
                # "saved" alone until the phone first sets the clock (the earlier format)
                f.write(str(now) + " " + str(self.phone_t) if self.phone_t else str(now))
            self.saved = now
        except OSError:
            pass


class PhoneTime:
    """Listens, now and then, for the phone's time frame (proximity.phonetime) and sets the clock
    through the keeper. The IRQ handler keeps one candidate report (copied: the stack reuses
    its buffer), chosen by the frame's header without allocating; poll() decides on it."""

    def __init__(self, ble, secret, keeper):
        self.ble = ble
        self.keeper = keeper
        self.clock = PhoneClock(secret, keeper.phone_t)
        self.buf = bytearray(_MAX_LEGACY)
        self.n = 0  # bytes of the pending report in buf (0: none)
        self.heard = 0  # candidate reports the handler saw
        self.listen_until = 0
        self.next_listen = 0
        ble.irq(self._irq)

    def _irq(self, event, data):
        if event != _IRQ_SCAN_RESULT or self.n:
            return
        adv = data[4]
        n = len(adv)
        if n > _MAX_LEGACY:
            return
        i = 0
        while i + 4 < n:  # an AD structure 0xFF | 0xFFFF | format 2 of the frame's length
            ln = adv[i]
            if ln == 0:
                return
            if (
                ln == _TIME_LEN
                and adv[i + 1] == 0xFF
                and adv[i + 2] == 0xFF
                and adv[i + 3] == 0xFF
                and adv[i + 4] == _TIME_FORMAT
            ):
                self.buf[:n] = adv
                self.n = n
                self.heard += 1
                return
            i += 1 + ln

    def listen(self, now, boot=False):
        """Start a listening window if one is due (a minute at boot, then LISTEN_MS every
        LISTEN_EVERY_S). Returns True if one started."""
        if not boot and now < self.next_listen:
            return False
        ms = BOOT_LISTEN_MS if boot else LISTEN_MS
        self.ble.gap_scan(ms, 30000, 30000)  # window = interval: listen the whole time
        self.listen_until = now + ms // 1000
        self.next_listen = now + LISTEN_EVERY_S
        return True

    def busy(self, now):
        """True while a listening window is open or a report waits: poll every second."""
        return self.n > 0 or now < self.listen_until

    def poll(self, now):
        """Decide on the pending report, if any. Returns the time set, or -1."""
        if not self.n:
            return -1
        t = self.clock.offer(now, memoryview(self.buf)[: self.n])
        self.n = 0
        if t >= 0:
            self.keeper.set_from_phone(t)
            self.ble.gap_scan(None)  # set: the window's other frames would only rewrite it
            self.listen_until = 0
            self.next_listen = t + LISTEN_EVERY_S  # on the new clock
        return t


def load_secret(path="/beacon.key"):
    with open(path) as f:
        s = f.read().strip()
    return bytes(int(s[i : i + 2], 16) for i in range(0, len(s), 2))


def main(light_sleep=False):
    """Advertise forever. light_sleep=True sleeps the CPU between checks (needs a firmware
    built with Bluetooth modem sleep, or advertising stops while asleep)."""
    ble = bluetooth.BLE()
    ble.active(True)
    secret = load_secret()
    beacon = Beacon(ble, secret)
    keeper = ClockKeeper()
    phone = PhoneTime(ble, secret, keeper)
    phone.listen(keeper.restore(now2000()), boot=True)
    while True:
        now = now2000()
        if phone.poll(now) >= 0:
            now = now2000()  # the clock was set: identifiers follow the phone's time
        phone.listen(now)
        wait = beacon.update(now)
        keeper.tick(now)
        if phone.busy(now) and wait > 1:
            wait = 1  # listening: decide on what was heard within a second
        ms = (wait if wait < 60 else 60) * 1000
        if light_sleep:
            machine.lightsleep(ms)
        else:
            time.sleep_ms(ms)
