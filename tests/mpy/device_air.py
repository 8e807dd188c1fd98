# Bluetooth around the tag on the simulated board (tests/mpy/device_board.py), loaded only for
# scenarios with a "ble" key (the heap bench counts the board's own heap).
import bluetooth
import machine
from beacon.app import Beacon
from tagcore.proximity.advdata import build_adv


class Air:
    """Bluetooth around the tag (tests/mpy/fake_bluetooth: one simulated air): the victim's
    beacon running firmware/beacon's Beacon on its own BLE, in range while `near` says
    ([[from, to, rssi], ...] s since T0), and an optional crowd ([from, to, n]: n other
    advertisers of the opentag frame with identifiers the tag does not know, every 20 ms: a
    flood that fills the scanner's ring)."""

    def __init__(self, d, t0):
        self.t0 = t0
        self.ble = bluetooth.BLE()
        self.ble.active(True)
        self.beacon = Beacon(self.ble, bytes.fromhex(d["secret"]), d.get("ivs", 900))
        self.near = d.get("near", [])
        self.crowd = []
        self.crowd_at = d.get("crowd")
        if self.crowd_at:
            for i in range(self.crowd_at[2]):
                b = bluetooth.BLE()
                b.active(True)
                b.addr = bytes((0xC0, 0, 0, 0, 1, i))
                b.rssi = -70
                self.crowd.append(b)
        self.own = [self.ble]  # the board's, not the tag's
        self.own.extend(self.crowd)
        self.on = False
        self.crowd_on = False
        self.last_s = -1
        self.air_ms = machine.CLOCK[0]

    def run(self, now_ms):
        s = now_ms // 1000
        if s != self.last_s:  # once a second: the beacon's rotation, who is in range
            self.last_s = s
            r = None
            for w in self.near:
                if w[0] <= s - self.t0 < w[1]:
                    r = w[2]
            if r is None:
                if self.on:  # out of range (as switched off): rotates again when back
                    self.ble.gap_advertise(None)
                    self.beacon.k = -1
                    self.on = False
            else:
                self.ble.rssi = r
                self.beacon.update(s)
                self.on = True
            c = self.crowd_at
            flood = bool(c) and c[0] <= s - self.t0 < c[1]
            if flood != self.crowd_on:
                self.crowd_on = flood
                for i, b in enumerate(self.crowd):
                    if flood:
                        b.gap_advertise(20000, build_adv(bytes((0x5A, i)) * 8), connectable=False)
                    else:
                        b.gap_advertise(None)
        bluetooth.air_run(self.air_ms, now_ms)
        self.air_ms = now_ms
