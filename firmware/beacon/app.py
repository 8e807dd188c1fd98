# The victim's beacon: a small ESP32 MicroPython app (device-only: bluetooth, machine, time).
#
# It advertises, non-connectable, the rolling identifier of tagcore.proximity.beaconid for the
# current interval of its own clock, and changes identifier and BLE address together at every
# interval boundary. Its clock drifts (the ESP32's RC slow clock without a crystal): the tag
# tolerates and learns the skew. The clock is saved to flash every 2 min, so after a power cut the
# beacon resumes from the saved time (late by the outage plus at most 2 min: the tag takes a 10 min
# battery swap as on time) instead of from 2000-01-01.
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

ADV_MS = const(500)  # advertising interval
TX_DBM = const(9)  # transmit power asked of the stack (ESP32: -12 .. +9 dBm)
SAVE_EVERY_S = const(120)  # a power cut costs the outage plus at most this (flash wear: docs)
_ADDR_MODE_NRPA = const(3)


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


class ClockKeeper:
    """Saves the clock to a file every SAVE_EVERY_S; restores it after a power cut."""

    def __init__(self, path="/beacon.clock"):
        self.path = path
        self.saved = 0

    def restore(self, now):
        """If the RTC lost the time (it reads before the saved one), set it back to the saved
        time. Returns the (possibly corrected) time."""
        try:
            with open(self.path) as f:
                saved = int(f.read())
        except (OSError, ValueError):
            return now
        self.saved = saved
        if now >= saved:
            return now
        tm = time.gmtime(saved + (UNIX_2000 if time.gmtime(0)[0] == 1970 else 0))
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6], tm[3], tm[4], tm[5], 0))
        return saved

    def tick(self, now):
        if now - self.saved >= SAVE_EVERY_S:
            try:
                with open(self.path, "w") as f:
                    f.write(str(now))
                self.saved = now
            except OSError:
                pass


def load_secret(path="/beacon.key"):
    with open(path) as f:
        s = f.read().strip()
    return bytes(int(s[i : i + 2], 16) for i in range(0, len(s), 2))


def main(light_sleep=False):
    """Advertise forever. light_sleep=True sleeps the CPU between checks (needs a firmware
    built with Bluetooth modem sleep, or advertising stops while asleep)."""
    ble = bluetooth.BLE()
    ble.active(True)
    beacon = Beacon(ble, load_secret())
    keeper = ClockKeeper()
    keeper.restore(now2000())
    while True:
        now = now2000()
        wait = beacon.update(now)
        keeper.tick(now)
        ms = (wait if wait < 60 else 60) * 1000
        if light_sleep:
            machine.lightsleep(ms)
        else:
            time.sleep_ms(ms)
